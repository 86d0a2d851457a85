/**
 * Starts the control service. Env: CONTROL_PORT (8088), CONTROL_HOST (127.0.0.1: loopback unless exposed
 * on purpose), SLUICE_TOKENS_FILE or SLUICE_TOKENS (required), SLUICE_AUDIT_LOG (.state/audit.log),
 * KAFKA_BROKERS, SLUICE_MODEL_DIR, CONTROL_TOPOLOGIES (name=groupId:topic[+topic]),
 * CONTROL_HEALTH_TARGETS (name=url,...; default: the schema registry's /healthz), CLICKHOUSE_URL (A/B results
 * and drift series come from a ClickHouse server; the embedded store belongs to the worker process, so it is not opened here),
 * REDIS_URL or REDIS_CLUSTER_NODES (the online store the feature lookup reads).
 * Start: node --import tsx services/control/main.ts
 */
import { register as globalRegistry } from 'prom-client';
import { ConfigError, loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka, rootLogger } from '../../connectors/kafka/client.js';
import { FileExperimentStore } from '../../connectors/experiments/index.js';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import { createClickHouseClient } from '../../connectors/clickhouse/clickhouse-client.js';
import { createOnlineFeatureReader, createRedisClient } from '../../connectors/redis/index.js';
import { definedViews } from '../../topologies/features/view-catalog.js';
import { alertsTopicFromEnv } from '../../topologies/scoring/alerts.js';
import { lifecycleEventPublisher } from '../../topologies/scoring/lifecycle-publisher.js';
import { clickHouseDriftSource } from './clickhouse-drift-source.js';
import { clickHouseExperimentSource } from './clickhouse-experiment-source.js';
import { httpHealthProbe, parseHealthTargets } from './health-probe.js';
import { kafkaAlertFeed } from './kafka-alert-feed.js';
import { redisFeatureSource } from './redis-feature-source.js';
import { kafkaLagReader } from './kafka-lag.js';
import { createControlService } from './server.js';
import { counterRateThroughput } from './throughput.js';
import {
  staticTopologies,
  unconfiguredDriftSource,
  unconfiguredExperimentSource,
} from './unconfigured-sources.js';

function parsePort(raw: string | undefined): number {
  const port = Number(raw ?? '8088');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`CONTROL_PORT=${raw} is not a port; e.g. CONTROL_PORT=8088`);
  }
  return port;
}

async function main(): Promise<void> {
  const port = parsePort(process.env.CONTROL_PORT);
  const host = process.env.CONTROL_HOST ?? '127.0.0.1';
  const endpoints = loadEndpoints();
  const healthTargets = process.env.CONTROL_HEALTH_TARGETS
    ? parseHealthTargets(process.env.CONTROL_HEALTH_TARGETS)
    : [{ name: 'schema-registry', url: `${endpoints.schemaRegistryUrl}/healthz` }];

  const kafka = createKafka(endpoints.kafkaBrokers, 'sluice-control');
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const clickhouse =
    endpoints.clickhouse.mode === 'http' ? createClickHouseClient(endpoints.clickhouse) : undefined;
  const alerts = kafkaAlertFeed(kafka, alertsTopicFromEnv());
  const redis = createRedisClient(process.env);
  const app = await createControlService(
    {
      status: {
        topologies: staticTopologies(process.env.CONTROL_TOPOLOGIES),
        lag: kafkaLagReader(admin),
        throughput: counterRateThroughput({ registry: globalRegistry }),
        health: httpHealthProbe(healthTargets),
      },
      drift: clickhouse ? clickHouseDriftSource(clickhouse) : unconfiguredDriftSource,
      experiments: clickhouse ? clickHouseExperimentSource(clickhouse) : unconfiguredExperimentSource,
      experimentConfigs: new FileExperimentStore(),
      alerts,
      features: redisFeatureSource(
        createOnlineFeatureReader(redis, { registry: globalRegistry }),
        definedViews.map((v) => v.name),
      ),
      // Promotions through the API publish lifecycle events, so running scoring topologies hot-swap.
      models: new FileModelRegistry({
        onLifecycleEvent: lifecycleEventPublisher(producer, { actor: 'control-api' }),
      }),
    },
    { logger: rootLogger, defaultMetrics: true, extraMetricsRegistries: [globalRegistry] },
  );
  app.addReadinessCheck('kafka', async () => {
    await admin.listTopics();
  });
  await admin.connect();
  await producer.connect();
  await alerts.start();

  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'control service stopping');
    await app.close();
    await alerts.stop();
    await admin.disconnect();
    await producer.disconnect();
    await clickhouse?.close();
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ port, host });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`control: ${err.message}`);
  } else {
    console.error('control: failed to start', err);
  }
  process.exit(1);
});
