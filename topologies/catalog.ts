/**
 * The topologies this deployment ships, by name: what `sluice run NAME` starts and `sluice deploy`
 * prepares. Builders are lazy so that naming one topology never connects to what another needs.
 */
import { loadEndpoints } from '../connectors/config/endpoints.js';
import { FileExperimentStore } from '../connectors/experiments/index.js';
import { acquireClickHouse } from '../connectors/feature-sinks/clickhouse-pool.js';
import { createKafka, rootLogger } from '../connectors/kafka/client.js';
import { FileModelRegistry } from '../connectors/model-registry/file-model-registry.js';
import { createRedisClient } from '../connectors/redis/index.js';
import {
  createAvroSerde,
  createRegistryClient,
  registryAuthFromEnv,
} from '../connectors/schema-registry/index.js';
import { TxnEvent } from '../schemas/index.js';
import { withResources, type Topology } from './builder.js';
import type { TopologyRef } from './runtime/topology-ref.js';
import { driftTopologies, type DriftTopologyOptions } from './drift/drift-topology.js';
import { referenceCardFeatures } from './features/reference.js';
import { CARD_FEATURES_SOURCE } from './features/views/source.js';
import { referenceScoring } from './scoring/reference.js';

export interface ShippedTopology {
  readonly name: string;
  readonly description: string;
  readonly sourceTopic: string;
  /** Worker settings this topology runs with unless the operator overrides them. */
  readonly defaults?: { readonly checkpointMs?: number; readonly sinkMaxBatch?: number };
  build(): Topology | Promise<Topology>;
}

export const shippedTopologies: readonly ShippedTopology[] = [
  {
    name: 'card-features',
    description: 'per-card counts, sums and means over 1 min, 1 h and session windows -> Redis + ClickHouse',
    sourceTopic: CARD_FEATURES_SOURCE.topic,
    build: () => referenceCardFeatures(),
  },
  {
    name: 'scoring',
    description:
      'routes each transaction to a model variant (A/B + shadows), scores it with ONNX, logs every prediction; ' +
      'experiment from SLUICE_EXPERIMENT (default fraud-ab)',
    sourceTopic: CARD_FEATURES_SOURCE.topic,
    // Latency no longer depends on these: sinks write as soon as their input goes idle (sink-stage.ts).
    // 250 ms checkpoints keep the replay window after a crash short without the 100 ms ones' cost: with
    // 4 outstanding checkpoints, a commit slower than 400 ms paused the partitions and set the p99.
    // Full-size sink batches let a backlog drain in few writes.
    defaults: { checkpointMs: 250, sinkMaxBatch: 500 },
    build: async () => {
      const env = process.env;
      const endpoints = loadEndpoints(env);
      const kafka = createKafka(endpoints.kafkaBrokers, 'sluice-scoring');
      const registryClient = createRegistryClient(endpoints.schemaRegistryUrl, registryAuthFromEnv(env));
      const redis = createRedisClient(env, { logger: rootLogger });
      // With the embedded store this process owns the chdb folder; several workers need CLICKHOUSE_URL.
      const clickhouse = acquireClickHouse(endpoints.clickhouse);
      const scoring = await referenceScoring(kafka, {
        instanceId: env.SLUICE_INSTANCE_ID ?? `scoring-${process.pid}`,
        decoder: createAvroSerde(TxnEvent, registryClient, { topic: CARD_FEATURES_SOURCE.topic }),
        experiment: await new FileExperimentStore().get(env.SLUICE_EXPERIMENT ?? 'fraud-ab'),
        registry: new FileModelRegistry(),
        redis,
        clickhouse: clickhouse.client,
        logger: rootLogger,
      });
      // The lifecycle listener leaves (and deletes) its own consumer group, so restarts leave none behind.
      return withResources(scoring.topology, async () => {
        await scoring.stop();
        await Promise.allSettled([redis.quit(), clickhouse.release()]);
      });
    },
  },
  {
    name: 'drift-samples',
    description:
      "bins every prediction on its model version's reference profile and re-keys it by model@version " +
      '(input of the drift topology)',
    sourceTopic: 'predictions',
    build: () => driftTopologies(driftOptions()).samples,
  },
  {
    name: 'drift',
    description:
      'windowed PSI and missing rate per feature and model version -> drift-metrics + ClickHouse; ' +
      'breaches -> retrain-requests (window SLUICE_DRIFT_WINDOW, default 5m)',
    sourceTopic: 'drift.samples',
    build: () => driftTopologies(driftOptions()).drift,
  },
];

/** Both drift topologies must agree on these, so one function builds them from the environment. */
function driftOptions(env: NodeJS.ProcessEnv = process.env): DriftTopologyOptions {
  const threshold = env.SLUICE_DRIFT_PSI_THRESHOLD;
  return {
    registry: new FileModelRegistry(),
    ...(env.SLUICE_DRIFT_WINDOW ? { window: env.SLUICE_DRIFT_WINDOW } : {}),
    ...(threshold !== undefined ? { policy: { psiThreshold: Number(threshold) } } : {}),
  };
}

export class UnknownTopologyError extends Error {
  override readonly name = 'UnknownTopologyError';
}

/** Builds a shipped topology by name: what each stream thread of `sluice run NAME --threads N` calls. */
export async function buildShippedTopology(name: string): Promise<Topology> {
  return shippedTopology(name).build();
}

/** Where a stream thread finds a shipped topology (see topologies/runtime/topology-ref.ts). */
export const shippedTopologyRef = (name: string): TopologyRef => ({
  module: import.meta.url,
  export: 'buildShippedTopology',
  args: [name],
});

export function shippedTopology(name: string): ShippedTopology {
  const found = shippedTopologies.find((t) => t.name === name);
  if (!found) {
    throw new UnknownTopologyError(
      `no topology named "${name}"; shipped: ${shippedTopologies.map((t) => t.name).join(', ')}`,
    );
  }
  return found;
}
