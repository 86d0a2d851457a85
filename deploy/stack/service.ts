/** What the stack orchestrator needs to know about one service; one file per service implements it. */
import type { Managed } from './process.js';
import type { StackPaths } from './paths.js';

export type ServiceName = 'kafka' | 'redis' | 'clickhouse' | 'registry';
export const SERVICE_NAMES: readonly ServiceName[] = ['kafka', 'redis', 'clickhouse', 'registry'];

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
