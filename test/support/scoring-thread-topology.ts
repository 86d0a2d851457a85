/**
 * The scoring fixture's topology as a stream thread builds it (topologies/runtime/topology-ref.ts): the
 * thread opens the fixture's registry, experiment and Redis itself, since none of them cross threads.
 */
import path from 'node:path';
import { FileExperimentStore } from '../../connectors/experiments/index.js';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import { createRedisClient } from '../../connectors/redis/index.js';
import { withResources, type Topology } from '../../topologies/builder.js';
import type { TopologyRef } from '../../topologies/runtime/topology-ref.js';
import { openScoring } from '../../topologies/scoring/scoring-topology.js';
import { testKafka } from './kafka.js';
import { quiet, scoringOptions, type Fixture, type Txn } from './scoring-fixture.js';

export interface ScoringThreadArgs {
  readonly id: string;
  readonly dir: string;
  readonly topics: Fixture['topics'];
  readonly view: string;
  readonly experiment: string;
}

export async function scoringInThread(args: ScoringThreadArgs): Promise<Topology> {
  const registry = new FileModelRegistry({ root: path.join(args.dir, 'models') });
  const experiments = new FileExperimentStore({ root: path.join(args.dir, 'experiments') });
  const redis = createRedisClient(process.env, { logger: quiet });
  const scoring = await openScoring<Txn>(testKafka(), {
    ...scoringOptions({ ...args, registry, redis }, await experiments.get(args.experiment), 'threads'),
  });
  return withResources(scoring.topology, async () => {
    await scoring.stop();
    await redis.quit();
  });
}

export const scoringThreadRef = (args: ScoringThreadArgs): TopologyRef => ({
  module: import.meta.url,
  export: 'scoringInThread',
  args: [args],
});
