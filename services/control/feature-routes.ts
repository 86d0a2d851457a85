/**
 * The serving API: online feature rows by entity, for applications that score or decide outside Kafka.
 * A POST because a lookup carries up to 500 entities, more than a URL holds; it changes nothing, so the
 * viewer role is enough.
 */
import type { FastifyInstance } from 'fastify';
import { fromSource } from './api-routes.js';
import { featureLookupBody, featureLookupResponse, featureViewParams } from './api-schemas.js';
import type { OnlineFeatureSource } from './sources.js';

export function registerFeatureRoutes(app: FastifyInstance, features: OnlineFeatureSource): void {
  app.post<{ Params: { view: string }; Body: { entities: string[] } }>(
    '/api/features/:view/lookup',
    {
      config: { role: 'viewer' },
      schema: {
        summary: "Online feature rows of a view's entities, with each row's event time and age",
        tags: ['features'],
        params: featureViewParams,
        body: featureLookupBody,
        response: { 200: featureLookupResponse },
      },
    },
    async (req) => {
      const { view } = req.params;
      const rows = await fromSource(() => features.read(view, req.body.entities));
      return { view, rows };
    },
  );
}
