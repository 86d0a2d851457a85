/**
 * `DEMO_SERVE=1 npm run demo`: after the run, the control page stays up in the demo's process, so the A/B
 * results and drift series come from the same embedded ClickHouse the demo filled (one process owns a chdb
 * folder).
 */
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { register } from 'prom-client';
import type { ClickHouseClient } from '../../connectors/clickhouse/clickhouse-client.js';
import type { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import { loadAuthConfig } from '../../services/common/index.js';
import { clickHouseDriftSource } from '../../services/control/clickhouse-drift-source.js';
import { clickHouseExperimentSource } from '../../services/control/clickhouse-experiment-source.js';
import { httpHealthProbe } from '../../services/control/health-probe.js';
import { kafkaLagReader } from '../../services/control/kafka-lag.js';
import { createControlService } from '../../services/control/server.js';
import { counterRateThroughput } from '../../services/control/throughput.js';
import { staticTopologies } from '../../services/control/unconfigured-sources.js';

export async function serveControlPage(deps: {
  kafka: Kafka;
  clickhouse: ClickHouseClient;
  registry: FileModelRegistry;
  topologies: string;
  schemaRegistryUrl: string;
  experiment: string;
}): Promise<void> {
  // A fresh viewer token for this run, unless the operator configured tokens.
  const token = randomBytes(24).toString('hex');
  const env =
    process.env.SLUICE_TOKENS || process.env.SLUICE_TOKENS_FILE
      ? process.env
      : { SLUICE_TOKENS: `viewer:${token}:demo` };
  const admin = deps.kafka.admin();
  await admin.connect();
  const app = await createControlService(
    {
      status: {
        topologies: staticTopologies(deps.topologies),
        lag: kafkaLagReader(admin),
        throughput: counterRateThroughput({ registry: register }),
        health: httpHealthProbe([{ name: 'schema-registry', url: `${deps.schemaRegistryUrl}/healthz` }]),
      },
      drift: clickHouseDriftSource(deps.clickhouse),
      experiments: clickHouseExperimentSource(deps.clickhouse),
      models: deps.registry,
    },
    { tokens: loadAuthConfig(env), extraMetricsRegistries: [register] },
  );
  const port = Number(process.env.CONTROL_PORT ?? 8088);
  await app.listen({ port, host: '127.0.0.1' });
  console.log(
    `\n  control page: http://127.0.0.1:${port}/  (A/B experiment ${deps.experiment}, drift of model fraud)`,
  );
  if (env !== process.env) console.log(`  viewer token for this run: ${token}`);
  console.log('  Ctrl-C to stop');
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await app.close();
  await admin.disconnect();
}
