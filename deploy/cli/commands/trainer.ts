/**
 * `sluice trainer run | request`: the trainer service (retrain requests -> shadow model versions), and a
 * manual retrain request for a model's current champion.
 */
import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { ensureTopics } from '../../../connectors/kafka/topics.js';
import { FileModelRegistry } from '../../../connectors/model-registry/file-model-registry.js';
import { ModelRegistryError } from '../../../connectors/model-registry/registry-errors.js';
import type { RetrainRequestRecord } from '../../../schemas/index.js';
import { runTrainer } from '../../../services/trainer/retrain/main.js';
import { validateRetrainRequest } from '../../../services/trainer/retrain/retrain-request.js';
import { RETRAIN_REQUESTS_TOPIC } from '../../../topologies/drift/drift-topology.js';
import { deployActor } from '../../reference/deploy-reference.js';

const isoDate = (value: string): number => {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new InvalidArgumentError('must be an ISO date, e.g. 2024-05-01 or 2024-05-01T12:00:00Z');
  }
  return ms;
};

export function registerTrainerCommands(program: Command): void {
  const trainer = program
    .command('trainer')
    .description('the trainer: retrain requests -> new model versions registered as shadow');
  trainer
    .command('run')
    .description(
      'consume retrain requests until SIGTERM (env: KAFKA_BROKERS, CLICKHOUSE_URL or SLUICE_CHDB_PATH, ' +
        'SLUICE_MODEL_DIR, SLUICE_TRAINER_MIN_ROWS, SLUICE_TRAINER_MAX_ROWS, SLUICE_TRAINER_WINDOW_DAYS)',
    )
    .action(async () => {
      await runTrainer();
    });
  trainer
    .command('request')
    .description('ask the trainer for a new version of a model, trained from its current champion')
    .argument('<model>')
    .option('--from <date>', 'training window start, ISO date (default: 7 days before --to)', isoDate)
    .option('--to <date>', 'training window end, ISO date, exclusive (default: now)', isoDate)
    .option('--reason <text>', 'why, kept in the request', 'manual retrain')
    .option('--topic <name>', 'the retrain request topic', RETRAIN_REQUESTS_TOPIC)
    .action(async (model: string, opts: { from?: number; to?: number; reason: string; topic: string }) => {
      const champion = await new FileModelRegistry().champion(model);
      if (!champion) {
        throw new ModelRegistryError(
          'MODEL_NOT_FOUND',
          `model ${model} has no champion to retrain from; see \`sluice models list ${model}\``,
        );
      }
      const requestedAt = Date.now();
      if (opts.from !== undefined && opts.from >= (opts.to ?? requestedAt)) {
        throw new ConfigError('--from must be before --to (or before now when --to is not given)');
      }
      const request: RetrainRequestRecord = validateRetrainRequest({
        requestId: `manual-${randomUUID()}`,
        model,
        modelVersion: champion.version,
        trigger: 'MANUAL',
        reason: `${opts.reason} (by ${deployActor()})`,
        breaches: [],
        trainFrom: opts.from ?? null,
        trainTo: opts.to ?? null,
        requestedAt,
      });
      const kafka = createKafka(loadEndpoints().kafkaBrokers, 'sluice-trainer-request');
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [{ topic: opts.topic, numPartitions: 1 }]);
      } finally {
        await admin.disconnect();
      }
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        // Keyed by model, like the drift topology: one model's requests stay in order.
        await producer.send({
          topic: opts.topic,
          acks: -1,
          messages: [{ key: model, value: JSON.stringify(request) }],
        });
      } finally {
        await producer.disconnect();
      }
      console.log(
        `requested a retrain of ${model} from ${champion.version} on ${opts.topic} (request ${request.requestId})`,
      );
    });
}
