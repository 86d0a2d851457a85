/**
 * Where the outside services are. One module decides, from the environment, so every process (worker,
 * services, CLI, tests) agrees. Defaults are the local stack started by `sluice stack up`.
 */
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { passwordFromEnv } from './secret-file.js';

export type ClickHouseEndpoint =
  | { readonly mode: 'embedded'; readonly path: string }
  | {
      readonly mode: 'http';
      readonly url: string;
      readonly username: string;
      readonly password: string;
      readonly database: string;
      /**
       * CLICKHOUSE_CLUSTER: the cluster (from the servers' remote_servers) the offline tables span.
       * Tables are then Replicated on every node and read and written through Distributed tables.
       */
      readonly cluster?: string;
    };

export interface Endpoints {
  readonly kafkaBrokers: readonly string[];
  readonly schemaRegistryUrl: string;
  readonly redisUrl: string;
  readonly clickhouse: ClickHouseEndpoint;
  /** The local ClickHouse server the stack starts for HTTP-path tests (Debian's clickhouse-server). */
  readonly clickhouseHttpUrl: string;
  /** True for each service named explicitly by the environment: the stack must not start those. */
  readonly external: Readonly<Record<'kafka' | 'schemaRegistry' | 'redis' | 'clickhouse', boolean>>;
}

export { ConfigError } from './config-error.js';

export const DEFAULT_STATE_DIR = path.resolve(process.env.SLUICE_STATE_DIR ?? '.state');

/** A URL setting checked at start: a URL at all, with one of `protocols`; trailing slashes dropped. */
export function parseUrl(name: string, value: string, protocols: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`${name}=${value} is not a URL; set it like ${protocols[0]}//127.0.0.1:PORT`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(
      `${name}=${value} must use ${protocols.join(' or ')}; e.g. ${protocols[0]}//host:port`,
    );
  }
  return value.replace(/\/+$/, '');
}

function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const b of brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) {
      throw new ConfigError(
        `KAFKA_BROKERS entry "${b}" must be host:port, e.g. KAFKA_BROKERS=127.0.0.1:9092`,
      );
    }
  }
  if (brokers.length === 0)
    throw new ConfigError('KAFKA_BROKERS is empty; e.g. KAFKA_BROKERS=127.0.0.1:9092');
  return brokers;
}

/** A cluster name as ClickHouse's remote_servers and ON CLUSTER take it, unquoted. */
function parseCluster(value: string | undefined, clickhouseUrl: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (!clickhouseUrl) {
    throw new ConfigError(
      `CLICKHOUSE_CLUSTER=${value} needs CLICKHOUSE_URL: the embedded store (chdb) is a single node. ` +
        'Set CLICKHOUSE_URL to a node of the cluster, or unset CLICKHOUSE_CLUSTER',
    );
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new ConfigError(
      `CLICKHOUSE_CLUSTER=${value} must be a cluster name from the servers' <remote_servers> ` +
        '(letters, digits and underscores), e.g. CLICKHOUSE_CLUSTER=sluice',
    );
  }
  return value;
}

export function loadEndpoints(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const stateDir = path.resolve(env.SLUICE_STATE_DIR ?? '.state');
  const clickhouseUrl = env.CLICKHOUSE_URL;
  const cluster = parseCluster(env.CLICKHOUSE_CLUSTER, clickhouseUrl);
  const clickhouse: ClickHouseEndpoint = clickhouseUrl
    ? {
        mode: 'http',
        url: parseUrl('CLICKHOUSE_URL', clickhouseUrl, ['http:', 'https:']),
        username: env.CLICKHOUSE_USER ?? 'default',
        // None is the passwordless default user.
        password: passwordFromEnv(env, 'CLICKHOUSE_PASSWORD') ?? '',
        database: env.CLICKHOUSE_DATABASE ?? 'default',
        ...(cluster ? { cluster } : {}),
      }
    : { mode: 'embedded', path: path.resolve(env.SLUICE_CHDB_PATH ?? path.join(stateDir, 'chdb')) };
  return {
    kafkaBrokers: parseBrokers(env.KAFKA_BROKERS ?? '127.0.0.1:9092'),
    schemaRegistryUrl: parseUrl('SCHEMA_REGISTRY_URL', env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081', [
      'http:',
      'https:',
    ]),
    redisUrl: parseUrl('REDIS_URL', env.REDIS_URL ?? 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    clickhouse,
    clickhouseHttpUrl: parseUrl(
      'SLUICE_CLICKHOUSE_HTTP_URL',
      env.SLUICE_CLICKHOUSE_HTTP_URL ?? clickhouseUrl ?? 'http://127.0.0.1:8123',
      ['http:', 'https:'],
    ),
    external: {
      kafka: env.KAFKA_BROKERS !== undefined,
      schemaRegistry: env.SCHEMA_REGISTRY_URL !== undefined,
      redis: env.REDIS_URL !== undefined,
      clickhouse: clickhouseUrl !== undefined,
    },
  };
}
