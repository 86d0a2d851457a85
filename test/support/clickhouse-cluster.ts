/** Endpoints of the stack's local ClickHouse cluster (`sluice stack up --with-clickhouse-cluster`). */
import { createClickHouseClient } from '../../connectors/clickhouse/index.js';
import type { ClickHouseEndpoint } from '../../connectors/config/endpoints.js';
import {
  clusterNodeUrl,
  LOCAL_CLUSTER_NAME,
  LOCAL_CLUSTER_NODES,
  type ClusterNode,
} from '../../deploy/stack/clickhouse-cluster.js';

type HttpEndpoint = Extract<ClickHouseEndpoint, { mode: 'http' }>;

/** One node on its own, without the cluster layout: to look at what that node itself holds. */
export const localNodeEndpoint = (node: ClusterNode, database = 'default'): HttpEndpoint => ({
  mode: 'http',
  url: clusterNodeUrl(node),
  username: 'default',
  password: '',
  database,
});

/** Sluice's cluster layout, entered through `node` (default: shard 1, replica 1). */
export const localClusterEndpoint = (
  node: ClusterNode = LOCAL_CLUSTER_NODES[0]!,
  database = 'default',
): HttpEndpoint => ({ ...localNodeEndpoint(node, database), cluster: LOCAL_CLUSTER_NAME });

/**
 * Waits until every replica of the local cluster holds every write to these tables (`db.table`, the
 * Distributed names). Replicas copy asynchronously, so a test that reads right after writing does this
 * first, or it may read a replica that is still behind.
 */
export async function syncLocalClusterReplicas(tables: readonly string[]): Promise<void> {
  for (const node of LOCAL_CLUSTER_NODES) {
    const client = createClickHouseClient(localNodeEndpoint(node));
    try {
      for (const table of tables) await client.command({ query: `SYSTEM SYNC REPLICA ${table}_local` });
    } finally {
      await client.close();
    }
  }
}
