/**
 * A card-features worker process for the crash tests, run until SIGTERM (or SIGKILL from the test).
 * The topology comes from FEATURES_TOPOLOGY, FEATURES_SOURCE, FEATURES_KEY_PREFIX and FEATURES_INSTANCE;
 * the stores from the usual environment (REDIS_URL, CLICKHOUSE_URL, CLICKHOUSE_CLUSTER, ...).
 */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import { TxnEvent } from '../../schemas/index.js';
import { cardFeaturesTopology } from '../../topologies/features/card-features.js';
import { runTopology } from '../../topologies/runtime/run.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set`);
  return v;
};

const source = env('FEATURES_SOURCE');
const decoder = createAvroSerde(TxnEvent, createRegistryClient(loadEndpoints().schemaRegistryUrl), {
  topic: source,
});
const t = cardFeaturesTopology({
  name: env('FEATURES_TOPOLOGY'),
  sourceTopic: source,
  featuresTopic: null,
  decoder,
  online: { keyPrefix: env('FEATURES_KEY_PREFIX') },
});

await runTopology(t, {
  instanceId: env('FEATURES_INSTANCE'),
  sessionTimeoutMs: 6000,
  barrierIntervalMs: 200,
  barrierEveryRecords: 1000,
});
