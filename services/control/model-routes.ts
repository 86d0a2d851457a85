/**
 * Model promotion and rollback (operator role). Every attempt, successful or not, is written to the audit
 * log with the caller's token name, so who changed which champion, and why, is on record.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ModelRegistryError } from '../../connectors/model-registry/registry-errors.js';
import type { ModelStage } from '../../connectors/model-registry/model-metadata.js';
import { HttpError, principalOf } from '../common/index.js';
import { nameParams, promoteBody, rollbackBody, stageChangeResponse } from './api-schemas.js';
import { fromSource } from './api-routes.js';
import type { ModelStageChanger, StagedModel } from './sources.js';

const REGISTRY_STATUS: Record<string, number> = {
  MODEL_NOT_FOUND: 404,
  INVALID_NAME: 400,
  NO_PREVIOUS_CHAMPION: 409,
};

async function audited(
  app: FastifyInstance,
  req: FastifyRequest,
  action: string,
  target: string,
  details: Record<string, unknown>,
  change: () => Promise<StagedModel>,
) {
  const actor = principalOf(req).name;
  let result: StagedModel;
  try {
    result = await fromSource(change);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    await app.audit.record({
      actor,
      action,
      target,
      details: { ...details, outcome: 'failed', error, requestId: req.id },
    });
    if (err instanceof ModelRegistryError && REGISTRY_STATUS[err.code]) {
      throw new HttpError(REGISTRY_STATUS[err.code]!, err.code, err.message);
    }
    throw err;
  }
  const record = await app.audit.record({
    actor,
    action,
    target: `model:${result.name}@${result.version}`,
    details: { ...details, outcome: 'ok', stage: result.stage, requestId: req.id },
  });
  req.log.info({ action, target: record.target, auditSeq: record.seq }, 'model stage changed');
  return { name: result.name, version: result.version, stage: result.stage, auditSeq: record.seq };
}

export function registerModelRoutes(app: FastifyInstance, models: ModelStageChanger): void {
  app.post<{ Params: { name: string }; Body: { version: string; stage: ModelStage; reason: string } }>(
    '/api/models/:name/promote',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Move a model version to a stage (champion by default); the old champion is archived',
        tags: ['models'],
        params: nameParams,
        body: promoteBody,
        response: { 200: stageChangeResponse },
      },
    },
    async (req) => {
      const { name } = req.params;
      const { version, stage, reason } = req.body;
      return audited(app, req, 'model.promote', `model:${name}@${version}`, { stage, reason }, () =>
        models.setStage(name, version, stage, reason),
      );
    },
  );

  app.post<{ Params: { name: string }; Body: { reason: string } }>(
    '/api/models/:name/rollback',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Restore the champion the current one replaced',
        tags: ['models'],
        params: nameParams,
        body: rollbackBody,
        response: { 200: stageChangeResponse },
      },
    },
    async (req) => {
      const { name } = req.params;
      return audited(app, req, 'model.rollback', `model:${name}`, { reason: req.body.reason }, () =>
        models.rollback(name, req.body.reason),
      );
    },
  );
}
