/** What the stack orchestrator needs to know about one service; one file per service implements it. */
import type { Managed } from './process.js';
import type { StackPaths } from './paths.js';

export type ServiceName =
  | 'kafka'
  | 'redis'
  | 'clickhouse'
  | 'registry'
  | 'zookeeper'
  | 'clickhouse-s1r1'
  | 'clickhouse-s1r2'
  | 'clickhouse-s2r1'
  | 'clickhouse-s2r2';
/** What `sluice stack up` starts by default. */
export const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'redis', 'clickhouse', 'registry'];
/** The local ClickHouse cluster (ZooKeeper and 2 shards x 2 replicas), started only on request. */
export const CLICKHOUSE_CLUSTER_SERVICE_NAMES: readonly ServiceName[] = [
  'zookeeper',
  'clickhouse-s1r1',
  'clickhouse-s1r2',
  'clickhouse-s2r1',
  'clickhouse-s2r2',
];
export const ALL_SERVICE_NAMES: readonly ServiceName[] = [
  ...SERVICE_NAMES,
  ...CLICKHOUSE_CLUSTER_SERVICE_NAMES,
];

export interface Health {
  readonly ok: boolean;
  /** e.g. "7.0.15"; undefined when unknown. */
  readonly version?: string;
  /** Why it is unhealthy, or extra facts when healthy (e.g. the Kafka cluster id). */
  readonly detail?: string;
}

export interface StackService {
  readonly name: ServiceName;
  /** The product, for messages like "127.0.0.1:9092 is taken by something that is not Kafka". */
  readonly product: string;
  /** host:port the stack probes (and starts on when it is ours to start). */
  readonly address: string;
  /** The env var that points the stack elsewhere, named in messages. */
  readonly envVar: string;
  /** Set when the environment names this service (or it is not on this machine): never start it. */
  readonly externalReason: string | undefined;
  readonly managed: Managed;
  /** The version we start, for services whose probe cannot tell (Kafka). */
  readonly ownVersion?: string;
  readonly logFile: string;
  readonly readyTimeoutMs: number;
  /** Starts once this one is up (when both are selected); skipped if it failed. */
  readonly after?: ServiceName;
  /** Bounded in time; never throws. */
  probe(): Promise<Health>;
  /** Checks prerequisites, prepares files and spawns the process; throws StackError naming the fix. */
  start(progress: (message: string) => void): Promise<number>;
}

export interface ServiceContext {
  readonly paths: StackPaths;
  readonly env: NodeJS.ProcessEnv;
}

/** A failure the user can fix; its message is one line that names the fix. */
export class StackError extends Error {
  override readonly name = 'StackError';
}
