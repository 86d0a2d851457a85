/**
 * A local ClickHouse cluster for the cluster-layout tests: cluster `sluice`, 2 shards of 2 replicas, four
 * Debian clickhouse-server 18.16 processes coordinated by the stack's ZooKeeper. Only started on request
 * (`sluice stack up --with-clickhouse-cluster`). Each node's config is generated from the layout below.
 * The users file is the single server's; the server settings repeat its config.xml (which the single
 * server overrides on the command line, as nested cluster sections cannot be), with smaller caches since
 * four nodes share the machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { probeClickHouse } from './clickhouse.js';
import { STACK_ASSETS } from './paths.js';
import { ensureDebianProgram, requireDiskSpace } from './prereqs.js';
import { spawnDetached } from './process.js';
import type { ServiceContext, ServiceName, StackService } from './service.js';
import { LOCAL_ZOOKEEPER_PORT } from './zookeeper.js';

export const LOCAL_CLUSTER_NAME = 'sluice';

export interface ClusterNode {
  readonly name: Extract<ServiceName, `clickhouse-s${number}r${number}`>;
  readonly shard: number;
  readonly replica: number;
  readonly httpPort: number;
  /** Native protocol: Distributed tables reach the shards through it. */
  readonly tcpPort: number;
  /** Replicas fetch parts from each other through it. */
  readonly interserverPort: number;
}

const node = (shard: number, replica: number, index: number): ClusterNode => ({
  name: `clickhouse-s${shard}r${replica}` as ClusterNode['name'],
  shard,
  replica,
  httpPort: 8131 + index,
  tcpPort: 9131 + index,
  interserverPort: 9151 + index,
});

export const LOCAL_CLUSTER_NODES: readonly ClusterNode[] = [
  node(1, 1, 0),
  node(1, 2, 1),
  node(2, 1, 2),
  node(2, 2, 3),
];

export const clusterNodeUrl = (n: ClusterNode) => `http://127.0.0.1:${n.httpPort}`;

function remoteServers(): string {
  const shards = [...new Set(LOCAL_CLUSTER_NODES.map((n) => n.shard))].map((shard) => {
    const replicas = LOCAL_CLUSTER_NODES.filter((n) => n.shard === shard)
      .map((n) => `        <replica><host>127.0.0.1</host><port>${n.tcpPort}</port></replica>`)
      .join('\n');
    // internal_replication: a Distributed insert writes one replica, which replicates it to the others.
    return `      <shard>\n        <internal_replication>true</internal_replication>\n${replicas}\n      </shard>`;
  });
  return `    <${LOCAL_CLUSTER_NAME}>\n${shards.join('\n')}\n    </${LOCAL_CLUSTER_NAME}>`;
}

/** The node's own config: includes everything a production node of such a cluster needs. */
export function clusterNodeConfig(n: ClusterNode, home: string, logsDir: string): string {
  const dir = (name: string) => `${path.join(home, name)}/`;
  return `<?xml version="1.0"?>
<!-- Written by sluice stack up (with the ClickHouse cluster) on every start: edits do not last. -->
<yandex>
  <logger>
    <level>warning</level>
    <log>${path.join(logsDir, `${n.name}-server.log`)}</log>
    <errorlog>${path.join(logsDir, `${n.name}-server.err.log`)}</errorlog>
    <size>50M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${n.httpPort}</http_port>
  <tcp_port>${n.tcpPort}</tcp_port>
  <interserver_http_port>${n.interserverPort}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${dir('data')}</path>
  <tmp_path>${dir('tmp')}</tmp_path>
  <user_files_path>${dir('user_files')}</user_files_path>
  <format_schema_path>${dir('format_schemas')}</format_schema_path>
  <users_config>${path.join(STACK_ASSETS, 'clickhouse', 'users.xml')}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>134217728</mark_cache_size>
  <uncompressed_cache_size>134217728</uncompressed_cache_size>
  <max_concurrent_queries>32</max_concurrent_queries>
  <keep_alive_timeout>3</keep_alive_timeout>
  <mlock_executable>false</mlock_executable>
  <zookeeper>
    <node><host>127.0.0.1</host><port>${LOCAL_ZOOKEEPER_PORT}</port></node>
  </zookeeper>
  <distributed_ddl>
    <path>/clickhouse/task_queue/ddl</path>
  </distributed_ddl>
  <macros>
    <shard>${n.shard}</shard>
    <replica>r${n.replica}</replica>
  </macros>
  <remote_servers>
${remoteServers()}
  </remote_servers>
</yandex>
`;
}

export function clusterNodeServices({ paths }: ServiceContext): StackService[] {
  return LOCAL_CLUSTER_NODES.map((n) => {
    const home = path.join(paths.stateDir, 'clickhouse-cluster', n.name);
    const config = path.join(home, 'config.xml');
    const logFile = path.join(paths.logsDir, `${n.name}.log`);
    // The config path names the node, so each pid check recognises its own server.
    const managed = { name: n.name, pidsDir: paths.pidsDir, marker: config };
    return {
      name: n.name,
      product: 'ClickHouse',
      address: `127.0.0.1:${n.httpPort}`,
      envVar: 'CLICKHOUSE_CLUSTER',
      externalReason: undefined,
      managed,
      logFile,
      readyTimeoutMs: 60_000,
      after: 'zookeeper',
      probe: () => probeClickHouse(clusterNodeUrl(n), { username: 'default', password: '' }),
      async start(progress) {
        const server = ensureDebianProgram('clickhouse-server', 'clickhouse-server', progress);
        requireDiskSpace(paths.stateDir);
        for (const d of ['data', 'tmp', 'user_files', 'format_schemas'])
          fs.mkdirSync(path.join(home, d), { recursive: true });
        fs.writeFileSync(config, clusterNodeConfig(n, home, paths.logsDir));
        return spawnDetached(managed, {
          command: server,
          args: [`--config-file=${config}`],
          cwd: home,
          logFile,
        });
      },
    };
  });
}
