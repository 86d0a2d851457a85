/**
 * Entry point of the trainer service: consumes retrain requests until SIGTERM/SIGINT.
 *
 *   node --import tsx services/trainer/retrain/main.ts      (or: sluice trainer run)
 *
 * Environment: KAFKA_BROKERS; CLICKHOUSE_URL (else the embedded chdb store at SLUICE_CHDB_PATH, which only
 * one process may open); SLUICE_MODEL_DIR (the registry); optional SLUICE_RETRAIN_TOPIC,
 * SLUICE_TRAINER_MIN_ROWS, SLUICE_TRAINER_MAX_ROWS, SLUICE_TRAINER_WINDOW_DAYS; SLUICE_METRICS_PORT serves
 * /metrics, /healthz and /readyz.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClickHouseClient } from '../../../connectors/clickhouse/index.js';
import { migratePredictionTables } from '../../../connectors/clickhouse-tables/predictions.js';
import { ConfigError, loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka, rootLogger } from '../../../connectors/kafka/client.js';
import { FileModelRegistry } from '../../../connectors/model-registry/file-model-registry.js';
import { metricsPortFromEnv, startMetricsEndpoint } from '../../../topologies/runtime/metrics-endpoint.js';
import { alertsTopicFromEnv } from '../../../topologies/scoring/alerts.js';
import { lifecycleEventPublisher } from '../../../topologies/scoring/lifecycle-publisher.js';
import type { RetrainOptions } from './retrain-model.js';
import { startRetrainService, TRAINER_NAME } from './retrain-service.js';

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${name}=${raw} must be a positive integer, e.g. ${name}=500`);
  return n;
}

export function trainerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  topic?: string;
  retrain: RetrainOptions;
} {
  const minRows = positiveInt(env, 'SLUICE_TRAINER_MIN_ROWS');
  const maxRows = positiveInt(env, 'SLUICE_TRAINER_MAX_ROWS');
  const days = positiveInt(env, 'SLUICE_TRAINER_WINDOW_DAYS');
  return {
    ...(env.SLUICE_RETRAIN_TOPIC ? { topic: env.SLUICE_RETRAIN_TOPIC } : {}),
    retrain: {
      ...(minRows !== undefined ? { minRows } : {}),
      ...(maxRows !== undefined ? { maxRows } : {}),
      ...(days !== undefined ? { windowMs: days * 24 * 3600 * 1000 } : {}),
    },
  };
}

/** Runs the trainer until `signal` aborts (default: SIGTERM or SIGINT). */
export async function runTrainer(env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<void> {
  const endpoints = loadEndpoints(env);
  const config = trainerOptionsFromEnv(env);
  const log = rootLogger.child({ component: 'trainer' });
  const kafka = createKafka(endpoints.kafkaBrokers, TRAINER_NAME);
  const clickhouse = createClickHouseClient(endpoints.clickhouse);
  const lifecycleProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    // Idempotent; lets the trainer start before the first prediction was ever logged.
    await migratePredictionTables(clickhouse);
    await lifecycleProducer.connect();
    const announce = lifecycleEventPublisher(lifecycleProducer, { actor: TRAINER_NAME });
    const registry = new FileModelRegistry({ onLifecycleEvent: announce });
    log.info({ registry: registry.root, clickhouse: endpoints.clickhouse.mode }, 'trainer starting');

    const stopSignal = signal ?? processSignal();
    const service = await startRetrainService({
      kafka,
      registry,
      clickhouse,
      announce,
      retrain: config.retrain,
      ...(config.topic ? { topic: config.topic } : {}),
      alertsTopic: alertsTopicFromEnv(env),
    });
    const metricsPort = metricsPortFromEnv(env.SLUICE_METRICS_PORT);
    // Its request counters tell on-call when drift asks for models the trainer cannot make (rules.yaml).
    const metrics =
      metricsPort === undefined
        ? undefined
        : await startMetricsEndpoint(
            { alive: () => service.isAlive, ready: () => service.isMember },
            metricsPort,
          );
    if (metrics) log.info({ port: metrics.port }, 'serving /metrics, /healthz, /readyz');
    await new Promise<void>((resolve) => {
      if (stopSignal.aborted) resolve();
      stopSignal.addEventListener('abort', () => resolve(), { once: true });
    });
    log.info('trainer stopping');
    await metrics?.close();
    await service.stop();
  } finally {
    await lifecycleProducer.disconnect().catch(() => undefined);
    await clickhouse.close().catch(() => undefined);
  }
}

function processSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return controller.signal;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    await runTrainer();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`trainer: ${err.message}`);
      process.exitCode = 2;
    } else throw err;
  }
}
