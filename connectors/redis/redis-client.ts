/**
 * Redis client construction for the online store: a single node from REDIS_URL, or a Redis Cluster when
 * REDIS_CLUSTER_NODES lists seed nodes. Commands time out instead of waiting forever in ioredis' offline
 * queue, so a dead server surfaces as an error the writers can retry and, eventually, report.
 */
import { Cluster, Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { ConfigError, loadEndpoints } from '../config/endpoints.js';
import { readPasswordFile } from '../config/secret-file.js';

export type RedisConnection = Redis | Cluster;

export interface RedisClientOptions {
  /** Per-command timeout; an attempt never hangs longer than this. */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface ClusterSeed {
  readonly host: string;
  readonly port: number;
}

/** Parses REDIS_CLUSTER_NODES ("host:port,host:port"); throws a ConfigError naming the fix. */
export function parseClusterNodes(value: string): ClusterSeed[] {
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) {
    throw new ConfigError(
      'REDIS_CLUSTER_NODES is empty; e.g. REDIS_CLUSTER_NODES=10.0.0.1:6379,10.0.0.2:6379',
    );
  }
  return entries.map((entry) => {
    const match = /^([^:\s]+):(\d{1,5})$/.exec(entry);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(
        `REDIS_CLUSTER_NODES entry "${entry}" must be host:port, e.g. REDIS_CLUSTER_NODES=10.0.0.1:6379`,
      );
    }
    return { host: match[1] as string, port };
  });
}

/**
 * REDIS_PASSWORD_FILE (a mounted Secret) or the password in REDIS_URL (redis://user:password@host), not
 * both: two sources of one secret would leave an operator guessing which one is used.
 */
function redisPassword(env: NodeJS.ProcessEnv, url: URL): string | undefined {
  const file = env.REDIS_PASSWORD_FILE;
  if (!file) return url.password ? decodeURIComponent(url.password) : undefined;
  if (url.password) {
    throw new ConfigError('REDIS_URL has a password and REDIS_PASSWORD_FILE is set; keep one of them');
  }
  return readPasswordFile('REDIS_PASSWORD_FILE', file);
}

let defaultLogger: Logger | undefined;
function redisLogger(): Logger {
  defaultLogger ??= pino({ level: process.env.LOG_LEVEL ?? 'info' }).child({ component: 'redis' });
  return defaultLogger;
}

/**
 * Logs connection errors once per distinct message: ioredis emits one per reconnect attempt, and the
 * commands themselves already fail with the same error.
 */
function attachErrorLog(client: RedisConnection, logger: Logger): void {
  let last = '';
  client.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    logger.warn({ err: err.message }, 'redis connection error');
  });
  client.on('ready', () => {
    last = '';
  });
}

/** Reconnect with a capped backoff forever; bounding the time is the job of each write's retry policy. */
const reconnectDelay = (attempt: number): number => Math.min(50 * 2 ** attempt, 2000);

export function createRedisClient(
  env: NodeJS.ProcessEnv = process.env,
  options: RedisClientOptions = {},
): RedisConnection {
  const commandTimeout = options.commandTimeoutMs ?? 5000;
  const connectTimeout = options.connectTimeoutMs ?? 5000;
  const logger = options.logger ?? redisLogger();
  const { redisUrl } = loadEndpoints(env);
  const url = new URL(redisUrl);
  const password = redisPassword(env, url);
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const clusterNodes = env.REDIS_CLUSTER_NODES;
  let client: RedisConnection;
  if (clusterNodes !== undefined) {
    client = new Cluster(parseClusterNodes(clusterNodes), {
      // Batches are spread over nodes by slot; auto-pipelining sends one pipeline per node per tick.
      enableAutoPipelining: true,
      clusterRetryStrategy: reconnectDelay,
      redisOptions: {
        commandTimeout,
        connectTimeout,
        maxRetriesPerRequest: 3,
        username,
        password,
        tls: url.protocol === 'rediss:' ? {} : undefined,
      },
    });
  } else {
    client = new Redis(redisUrl, {
      // Given explicitly, the file's password wins over the URL's (which then holds none).
      ...(password !== undefined ? { password } : {}),
      commandTimeout,
      connectTimeout,
      maxRetriesPerRequest: 3,
      retryStrategy: reconnectDelay,
    });
  }
  attachErrorLog(client, logger);
  return client;
}
