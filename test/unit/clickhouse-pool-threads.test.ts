/**
 * The embedded store (chdb) is one engine per process, on one data folder: a stream thread asking for it
 * must be refused with the fix (a ClickHouse server), before any thread opens the folder a second time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { spawnModuleWorker } from '../../connectors/threads/spawn-module-worker.js';

test('a worker thread is refused the embedded ClickHouse store, naming CLICKHOUSE_URL', async () => {
  const worker = spawnModuleWorker(import.meta.url, '../support/embedded-clickhouse-thread', undefined);
  const [answer] = (await once(worker, 'message')) as [{ name?: string; message?: string; acquired?: true }];
  await worker.terminate();
  assert.equal(answer.acquired, undefined, 'the thread got the embedded store');
  assert.equal(answer.name, 'ConfigError');
  assert.match(answer.message ?? '', /belongs to one thread of one process.*CLICKHOUSE_URL.*--threads 1/);
});
