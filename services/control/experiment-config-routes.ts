/**
 * Experiment configs over the API: list and read (viewer), save a new version (operator). Versions are
 * immutable; a save is validated by the store and audited with the caller's token name, whatever the
 * outcome. Running scoring workers switch to a new version within seconds (experiment-watcher.ts).
 */
import type { FastifyInstance } from 'fastify';
import {
  InvalidExperimentError,
  type ExperimentDraft,
} from '../../connectors/experiments/experiment-config.js';
import { ExperimentNotFoundError } from '../../connectors/experiments/file-experiment-store.js';
import { HttpError, principalOf } from '../common/index.js';
import { experimentConfigBody, experimentVersionQuery, nameParams } from './api-schemas.js';
import { SourceUnavailableError, type ExperimentConfigStore } from './sources.js';

/** The store's typed failures as HTTP answers. */
async function fromStore<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ExperimentNotFoundError) throw new HttpError(404, 'NOT_FOUND', err.message);
    if (err instanceof InvalidExperimentError) throw new HttpError(400, 'INVALID_EXPERIMENT', err.message);
    if (err instanceof SourceUnavailableError) throw new HttpError(503, 'SOURCE_UNAVAILABLE', err.message);
    throw err;
  }
}

export function registerExperimentConfigRoutes(app: FastifyInstance, store: ExperimentConfigStore): void {
  app.get(
    '/api/experiments',
    {
      config: { role: 'viewer' },
      schema: { summary: 'Experiments with their latest version', tags: ['experiments'] },
    },
    async () => {
      const names = await fromStore(() => store.names());
      const experiments = await Promise.all(
        names.map(async (name) => ({ name, versions: await store.versions(name) })),
      );
      return { experiments: experiments.map((e) => ({ name: e.name, latest: Math.max(...e.versions) })) };
    },
  );

  app.get<{ Params: { name: string }; Querystring: { version?: number } }>(
    '/api/experiments/:name',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'An experiment config: the latest version, or ?version=N',
        tags: ['experiments'],
        params: nameParams,
        querystring: experimentVersionQuery,
      },
    },
    async (req) => fromStore(() => store.get(req.params.name, req.query.version)),
  );

  app.put<{ Params: { name: string }; Body: Omit<ExperimentDraft, 'name'> & { reason: string } }>(
    '/api/experiments/:name',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Save a new version of an experiment (variants, weights, shadows, salt)',
        tags: ['experiments'],
        params: nameParams,
        body: experimentConfigBody,
      },
    },
    async (req) => {
      const { reason, ...draft } = req.body;
      const actor = principalOf(req).name;
      const target = `experiment:${req.params.name}`;
      try {
        const saved = await fromStore(() => store.save({ ...draft, name: req.params.name }));
        const record = await app.audit.record({
          actor,
          action: 'experiment.set',
          target: `${target}@${saved.version}`,
          details: {
            reason,
            variants: saved.variants,
            shadows: saved.shadows,
            outcome: 'ok',
            requestId: req.id,
          },
        });
        return { ...saved, auditSeq: record.seq };
      } catch (err) {
        await app.audit.record({
          actor,
          action: 'experiment.set',
          target,
          details: { reason, outcome: 'failed', error: (err as Error).message, requestId: req.id },
        });
        throw err;
      }
    },
  );
}
