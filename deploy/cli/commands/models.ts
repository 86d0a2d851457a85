/**
 * `sluice models list | promote | rollback`: stage changes of the model registry. Every change publishes a
 * lifecycle event (running scoring topologies hot-swap on it) and is appended to the audit log.
 */
import { Command, InvalidArgumentError } from 'commander';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { FileModelRegistry } from '../../../connectors/model-registry/file-model-registry.js';
import type { ModelStage } from '../../../connectors/model-registry/model-metadata.js';
import { AuditLog, auditLogPath } from '../../../services/common/index.js';
import { lifecycleEventPublisher } from '../../../topologies/scoring/lifecycle-publisher.js';
import { deployActor } from '../../reference/deploy-reference.js';

const STAGES: readonly ModelStage[] = ['shadow', 'challenger', 'champion', 'archived'];
const stage = (value: string): ModelStage => {
  if (!(STAGES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`stage must be one of ${STAGES.join(', ')}`);
  }
  return value as ModelStage;
};

/** Runs a stage change with lifecycle events on Kafka and an audit record, then disconnects. */
async function withAuditedRegistry<T>(
  actor: string,
  change: (registry: FileModelRegistry) => Promise<T>,
  audit: (result: T) => { action: string; target: string; details: Record<string, unknown> },
): Promise<T> {
  const kafka = createKafka(loadEndpoints().kafkaBrokers, 'sluice-models');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const registry = new FileModelRegistry({
      onLifecycleEvent: lifecycleEventPublisher(producer, { actor }),
    });
    const result = await change(registry);
    await (await AuditLog.open(auditLogPath())).record({ actor, ...audit(result) });
    return result;
  } finally {
    await producer.disconnect();
  }
}

export function registerModelsCommands(program: Command): void {
  const models = program
    .command('models')
    .description('the model registry: list versions, promote, roll back (audited, hot-swapped by scoring)');
  models
    .command('list')
    .description('list model versions with their stage, sha256 and training metrics')
    .argument('[name]', 'only this model')
    .action(async (name?: string) => {
      const all = await new FileModelRegistry().list(name);
      if (all.length === 0) console.log('no models registered (SLUICE_MODEL_DIR, default .state/models)');
      for (const m of all) {
        const metrics = Object.entries(m.trainingMetrics ?? {})
          .map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(4) : String(v)}`)
          .join(' ');
        console.log(
          `${`${m.name}@${m.version}`.padEnd(28)} ${m.stage.padEnd(10)} ${m.sha256.slice(0, 12)} ${metrics}`,
        );
      }
    });
  models
    .command('promote')
    .description('move a version to a stage (default champion; the previous champion is archived)')
    .argument('<name>')
    .argument('<version>')
    .option('--stage <stage>', `one of ${STAGES.join(', ')}`, stage, 'champion' as ModelStage)
    .option('--reason <text>', 'why, for the audit log', 'manual promotion')
    .option('--actor <name>', 'who, for the audit log (default $SLUICE_ACTOR or the OS user)')
    .action(
      async (name: string, version: string, opts: { stage: ModelStage; reason: string; actor?: string }) => {
        const m = await withAuditedRegistry(
          opts.actor ?? deployActor(),
          (r) => r.setStage(name, version, opts.stage, opts.reason),
          (result) => ({
            action: 'model.promote',
            target: `model:${result.name}@${result.version}`,
            details: { stage: opts.stage, reason: opts.reason },
          }),
        );
        console.log(`${m.name}@${m.version} is now ${m.stage}`);
      },
    );
  models
    .command('rollback')
    .description('bring back the champion that the current one replaced')
    .argument('<name>')
    .option('--reason <text>', 'why, for the audit log', 'manual rollback')
    .option('--actor <name>', 'who, for the audit log (default $SLUICE_ACTOR or the OS user)')
    .action(async (name: string, opts: { reason: string; actor?: string }) => {
      const m = await withAuditedRegistry(
        opts.actor ?? deployActor(),
        (r) => r.rollback(name, opts.reason),
        (result) => ({
          action: 'model.rollback',
          target: `model:${result.name}@${result.version}`,
          details: { reason: opts.reason },
        }),
      );
      console.log(`${m.name}@${m.version} is champion again`);
    });
}
