/**
 * The online store on a real Redis Cluster: three redis-server nodes in cluster mode (Debian's binary,
 * started and joined here with redis-cli --cluster create), reached through REDIS_CLUSTER_NODES exactly as a
 * deployment would. Rows of many entities spread over every node's slots; writes keep the event-time
 * compare-and-set, and a 300-entity read comes back complete and in order.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  createOnlineFeatureReader,
  createOnlineFeatureWriter,
  createRedisClient,
  type RedisConnection,
} from '../../connectors/redis/index.js';
import { freePort } from '../support/free-port.js';
import { until } from '../support/until.js';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-redis-cluster-'));
const nodes: ChildProcess[] = [];
let ports: number[] = [];
let client: RedisConnection | undefined;

/** Polls a node until `check` holds; a node not up yet answers with an error, which counts as not yet. */
const untilNode = (what: string, check: () => Promise<boolean>) =>
  until(what, () => check().catch(() => false), { timeoutMs: 20_000 });

function node(port: number): Redis {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined); // refused while the node starts: `until` retries
  return r;
}

before(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  for (const port of ports) {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dbfilename',
        `dump-${port}.rdb`,
      ],
      { stdio: 'ignore' },
    );
    nodes.push(child);
  }
  for (const port of ports) {
    await untilNode(`redis-server on ${port}`, async () => {
      const r = node(port);
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
  }
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  for (const port of ports) {
    await untilNode(`cluster_state:ok on ${port}`, async () => {
      const r = node(port);
      try {
        await r.connect();
        return /cluster_state:ok/.test(await r.cluster('INFO'));
      } finally {
        r.disconnect();
      }
    });
  }
});

test(
  'writes and reads rows of many entities across a three-node Redis Cluster, keeping the event-time CAS',
  { timeout: 60_000 },
  async () => {
    client = createRedisClient(
      { REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(',') },
      { logger: { warn: () => undefined } as never },
    );
    const writer = createOnlineFeatureWriter(client, { ttlMs: 600_000 });
    const reader = createOnlineFeatureReader(client);
    const entities = Array.from({ length: 300 }, (_, i) => `card-${i}`);
    const rows = (version: number, bump: number) =>
      entities.map((entity, i) => ({
        view: 'card_txn_1m',
        entity,
        version,
        values: { txnCount1m: i + bump, amountSum1m: 10 * i },
      }));

    const first = await writer.writeBatch(rows(2_000, 0));
    assert.equal(first.applied, 300);
    // Older event time: refused row by row on every node; newer: applied.
    const stale = await writer.writeBatch(rows(1_000, 500));
    assert.equal(stale.applied, 0, 'an older version never overwrites a newer one');
    const newer = await writer.writeBatch(rows(3_000, 1));
    assert.equal(newer.applied, 300);

    const read = await reader.readMany('card_txn_1m', entities);
    assert.equal(read.length, 300);
    read.forEach((r, i) => {
      assert.equal(r?.entity, entities[i], 'in request order');
      assert.deepEqual(r?.values, { txnCount1m: i + 1, amountSum1m: 10 * i });
    });
    assert.deepEqual(await reader.readMany('card_txn_1m', ['nobody']), [null]);

    // The rows really are spread over the cluster: every node holds some of them.
    for (const port of ports) {
      const r = node(port);
      await r.connect();
      const keys = await r.dbsize();
      r.disconnect();
      assert.ok(keys > 30, `node ${port} holds ${keys} of the 300 rows`);
    }
  },
);

after(async () => {
  client?.disconnect();
  for (const child of nodes) child.kill('SIGTERM');
  await Promise.all(
    nodes.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
  );
  rmSync(dir, { recursive: true, force: true });
});
