/** The alerts raised lately, for the control page's alerts panel and for scripts (viewer role). */
import type { FastifyInstance } from 'fastify';
import { fromSource } from './api-routes.js';
import { alertsQuery, alertsResponse } from './api-schemas.js';
import type { AlertFeed } from './sources.js';

export function registerAlertRoutes(app: FastifyInstance, feed: AlertFeed): void {
  app.get<{ Querystring: { limit: number } }>(
    '/api/alerts',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'The latest alerts (drift, retraining, model lifecycle), newest first',
        tags: ['alerts'],
        querystring: alertsQuery,
        response: { 200: alertsResponse },
      },
    },
    async (req) => ({ alerts: await fromSource(() => feed.recent(req.query.limit)) }),
  );
}
