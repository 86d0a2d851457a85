/** The read-only API: status (lag, throughput, health), drift series and experiment reports. */
import type { FastifyInstance } from 'fastify';
import { HttpError, principalOf } from '../common/index.js';
import {
  driftQuery,
  driftResponse,
  experimentReportResponse,
  nameParams,
  statusResponse,
} from './api-schemas.js';
import type { DriftSource, ExperimentReportSource } from './sources.js';
import { NotFoundError, SourceUnavailableError } from './sources.js';
import { readStatus, type StatusDeps } from './status.js';

const DAY_MS = 24 * 3600 * 1000;
const MAX_DRIFT_RANGE_MS = 90 * DAY_MS;

/** Maps the sources' typed failures to HTTP; anything else is a 500 with the request id. */
export async function fromSource<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SourceUnavailableError) throw new HttpError(503, 'SOURCE_UNAVAILABLE', err.message);
    if (err instanceof NotFoundError) throw new HttpError(404, 'NOT_FOUND', err.message);
    throw err;
  }
}

export function registerStatusRoutes(app: FastifyInstance, deps: StatusDeps): void {
  app.get(
    '/api/status',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Topologies with consumer lag per partition and throughput; services health',
        tags: ['status'],
        response: { 200: statusResponse },
      },
    },
    async () => readStatus(deps),
  );
}

/** Who the token belongs to, so the page and the CLI can show it. */
export function registerWhoAmIRoute(app: FastifyInstance): void {
  app.get(
    '/api/whoami',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'The caller: token name and role',
        tags: ['meta'],
        response: {
          200: {
            type: 'object',
            required: ['name', 'role'],
            properties: { name: { type: 'string' }, role: { type: 'string' } },
          },
        },
      },
    },
    async (req) => principalOf(req),
  );
}

export function registerDriftRoutes(app: FastifyInstance, drift: DriftSource): void {
  app.get<{ Querystring: { model: string; from?: string; to?: string; version?: string } }>(
    '/api/drift',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'Drift metric series per feature for a model, with thresholds',
        tags: ['drift'],
        querystring: driftQuery,
        response: { 200: driftResponse },
      },
    },
    async (req) => {
      const to = req.query.to ? Date.parse(req.query.to) : Date.now();
      const from = req.query.from ? Date.parse(req.query.from) : to - DAY_MS;
      if (from >= to) throw new HttpError(400, 'BAD_REQUEST', '`from` must be before `to`');
      if (to - from > MAX_DRIFT_RANGE_MS) {
        throw new HttpError(400, 'BAD_REQUEST', 'the range from..to may span at most 90 days; narrow it');
      }
      const { model, version } = req.query;
      const series = await fromSource(() =>
        drift.series({ model, from, to, ...(version !== undefined ? { version } : {}) }),
      );
      return {
        model: req.query.model,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        series,
      };
    },
  );
}

export function registerExperimentRoutes(app: FastifyInstance, reports: ExperimentReportSource): void {
  app.get<{ Params: { name: string } }>(
    '/api/experiments/:name/report',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'A/B results per variant: n, AUC with its confidence interval, log loss, precision@k',
        tags: ['experiments'],
        params: nameParams,
        response: { 200: experimentReportResponse },
      },
    },
    async (req) => {
      const report = await fromSource(() => reports.report(req.params.name));
      if (!report) throw new HttpError(404, 'NOT_FOUND', `no experiment named ${req.params.name}`);
      return report;
    },
  );
}
