/**
 * One ClickHouse client per endpoint per process, shared by every sink that needs it. Required for the
 * embedded mode (chdb allows one data folder per process, so several topologies in one worker must share
 * it) and cheaper over HTTP (one keep-alive pool). Reference-counted: the last release closes it.
 */
import { isMainThread } from 'node:worker_threads';
import { createClickHouseClient, type ClickHouseClient } from '../clickhouse/clickhouse-client.js';
import { ConfigError, type ClickHouseEndpoint } from '../config/endpoints.js';

interface Entry {
  readonly client: ClickHouseClient;
  users: number;
}

const pool = new Map<string, Entry>();

const keyOf = (endpoint: ClickHouseEndpoint) =>
  endpoint.mode === 'embedded'
    ? `embedded:${endpoint.path}`
    : `http:${endpoint.url}:${endpoint.username}:${endpoint.database}:${endpoint.cluster ?? ''}`;

export interface SharedClickHouse {
  readonly client: ClickHouseClient;
  release(): Promise<void>;
}

export function acquireClickHouse(endpoint: ClickHouseEndpoint): SharedClickHouse {
  // Each worker thread would open the folder again: chdb refuses, or worse, two engines share it.
  if (endpoint.mode === 'embedded' && !isMainThread) {
    throw new ConfigError(
      `the embedded ClickHouse store (${endpoint.path}) belongs to one thread of one process; a worker ` +
        'with several stream threads (--threads) needs CLICKHOUSE_URL pointing at a ClickHouse server, ' +
        'or run it with --threads 1',
    );
  }
  const key = keyOf(endpoint);
  let entry = pool.get(key);
  if (!entry) {
    // Short request timeout: a dead server surfaces as a retryable error within seconds, not minutes.
    entry = { client: createClickHouseClient(endpoint, { requestTimeoutMs: 10_000 }), users: 0 };
    pool.set(key, entry);
  }
  entry.users += 1;
  const held = entry;
  let released = false;
  return {
    client: held.client,
    async release() {
      if (released) return;
      released = true;
      held.users -= 1;
      // Embedded clients stay open: chdb cannot reopen another folder in this process, and closing and
      // reopening the same one costs a full engine start.
      if (held.users === 0 && endpoint.mode === 'http') {
        pool.delete(key);
        await held.client.close();
      }
    },
  };
}
