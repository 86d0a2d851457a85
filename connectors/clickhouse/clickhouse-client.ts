/**
 * One @clickhouse/client client for both offline-store modes, so the calling code is the same:
 * - embedded: chdb (ClickHouse in-process) through `chdb/connection`, on the data folder at endpoint.path;
 * - http: any ClickHouse server at endpoint.url.
 * chdb quirks the callers must respect: a data folder belongs to one process (and one folder per
 * process), the client's `database` option is ignored (qualify non-default table names), and per-query
 * settings stick to the session (so prefer SQL that needs no per-query settings).
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  ClickHouseLogLevel,
  createClient,
  type ClickHouseClient,
  type ClickHouseClientConfigOptions,
} from '@clickhouse/client';
import type { createChdbConnection as CreateChdbConnection } from 'chdb/connection';
import { ConfigError, type ClickHouseEndpoint } from '../config/endpoints.js';
import { layoutOfEndpoint, rememberLayout } from './table-layout.js';

export type { ClickHouseClient } from '@clickhouse/client';

export interface ClickHouseClientOptions {
  /** HTTP mode: per-request timeout, so an attempt never hangs. */
  readonly requestTimeoutMs?: number;
  /** The client logs every failed request itself; our writers report failures, so it is off by default. */
  readonly logLevel?: ClickHouseLogLevel;
}

const CLUSTER_SETTINGS = {
  // A Distributed table otherwise acknowledges an insert once it is queued on the receiving node's disk;
  // synchronous, the ack means each shard stored its rows, which is what committing offsets relies on.
  // Reads stay eventually consistent: a shard's other replicas fetch a write in the background, and a
  // read may reach one that has not yet (README, "The offline store on a ClickHouse cluster").
  insert_distributed_sync: 1,
} as const;

type ClientConnection = NonNullable<ClickHouseClientConfigOptions['connection']>;

/**
 * chdb's native engine is loaded only when an embedded store is opened, never by merely importing this
 * module: a worker thread that has loaded it takes the whole process down with a segmentation fault when
 * the thread exits, so stream threads (which use a ClickHouse server, see clickhouse-pool.ts) must not.
 */
const loadChdb = (): typeof CreateChdbConnection =>
  (createRequire(import.meta.url)('chdb/connection') as { createChdbConnection: typeof CreateChdbConnection })
    .createChdbConnection;

function openChdb(path: string): ClientConnection {
  try {
    mkdirSync(path, { recursive: true });
    // chdb types its Connection against @clickhouse/client-common 1.23.0 while the client bundles its own
    // copy of the same interface; they are identical at run time but not nominally equal.
    return loadChdb()({ path }) as unknown as ClientConnection;
  } catch (err) {
    const message =
      err instanceof Error ? `${err.message} ${String((err as Error).cause ?? '')}` : String(err);
    if (/only one active data directory per process/.test(message)) {
      throw new ConfigError(
        `cannot open the embedded ClickHouse store at ${path}: this process already has another chdb data ` +
          'folder open (chdb allows one per process). Use one SLUICE_CHDB_PATH per process.',
        { cause: err },
      );
    }
    if (/Cannot lock file|Another server instance/.test(message)) {
      throw new ConfigError(
        `the embedded ClickHouse store at ${path} is owned by another process (one process per chdb folder). ` +
          'Reach it through that process, set SLUICE_CHDB_PATH to a different folder, or set CLICKHOUSE_URL ' +
          'to a ClickHouse server that several processes can share.',
        { cause: err },
      );
    }
    throw err;
  }
}

export function createClickHouseClient(
  endpoint: ClickHouseEndpoint,
  options: ClickHouseClientOptions = {},
): ClickHouseClient {
  const log = { level: options.logLevel ?? ClickHouseLogLevel.OFF };
  if (endpoint.mode === 'embedded') {
    return createClient({ connection: openChdb(endpoint.path), log });
  }
  const layout = layoutOfEndpoint(endpoint);
  const client = createClient({
    url: endpoint.url,
    username: endpoint.username,
    password: endpoint.password,
    database: endpoint.database,
    request_timeout: options.requestTimeoutMs ?? 30_000,
    log,
    ...(layout.kind === 'cluster' ? { clickhouse_settings: CLUSTER_SETTINGS } : {}),
  });
  rememberLayout(client, layout);
  return client;
}
