/**
 * The feature stores survive outages: while events flow, this test's own Redis is stopped for 10 s and
 * restarted, then its own ClickHouse 18.16 server is stopped for 10 s and restarted. The worker keeps
 * retrying (partitions paused), and afterwards nothing is missing or doubled — Redis and ClickHouse
 * (FINAL) equal a brute-force computation of the input — and the consumer lag is back to zero.
 * Both servers are private to this test (random ports, temp folders): the shared stack is never touched.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import type { Message } from 'kafkajs';
import { pino } from 'pino';
import type { ClickHouseEndpoint } from '../../connectors/config/endpoints.js';
import { createClickHouseClient } from '../../connectors/clickhouse/index.js';
import { featureTableName } from '../../connectors/feature-sinks/index.js';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import { TxnEvent, type TxnEventRecord } from '../../schemas/index.js';
import { cardFeaturesTopology } from '../../topologies/features/card-features.js';
import { cardViews } from '../../topologies/features/views/index.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  produce,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';
import { assertMinuteWindows, cardTxns, hoursAgo, windowClosers } from '../support/card-txns.js';

const kafka = testKafka();
const name = uniqueName('fv-faults');
const source = `${name}.in`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-fv-faults-'));
const PARTITIONS = 3;
const started: ChildProcess[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A private redis-server with an fsync-always AOF, so a restart keeps every acknowledged write. */
function startRedis(port: number): ChildProcess {
  const data = path.join(dir, 'redis');
  mkdirSync(data, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      data,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ],
    { stdio: 'ignore' },
  );
  started.push(child);
  return child;
}

/** A private clickhouse-server 18.16 with the stack's config, every path in the temp folder. */
function startClickHouse(port: number): ChildProcess {
  const home = path.join(dir, 'clickhouse');
  const sub = (n: string) => {
    mkdirSync(path.join(home, n), { recursive: true });
    return `${path.join(home, n)}/`;
  };
  const child = spawn(
    'clickhouse-server',
    [
      `--config-file=${path.resolve('deploy/stack/clickhouse/config.xml')}`,
      '--',
      `--http_port=${port}`,
      `--path=${sub('data')}`,
      `--tmp_path=${sub('tmp')}`,
      `--user_files_path=${sub('user_files')}`,
      `--format_schema_path=${sub('format_schemas')}`,
      `--logger.log=${path.join(home, 'server.log')}`,
      `--logger.errorlog=${path.join(home, 'server.err.log')}`,
    ],
    { cwd: home, stdio: 'ignore' },
  );
  started.push(child);
  return child;
}

test(
  'Redis and ClickHouse each down for 10 s mid-stream: nothing missing or doubled, lag back to zero',
  { timeout: 150_000 },
  async () => {
    const [redisPort, chPort] = await Promise.all([freePort(), freePort()]);
    let redisServer = startRedis(redisPort);
    let chServer = startClickHouse(chPort);
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    const chUrl = `http://127.0.0.1:${chPort}`;
    const clickhouse: ClickHouseEndpoint = {
      mode: 'http',
      url: chUrl,
      username: 'default',
      password: '',
      database: 'default',
    };
    const probeRedis = async () => {
      const r = new Redis(redisUrl, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      r.on('error', () => undefined); // a refused probe is an answer, not an error
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    };
    const probeClickHouse = async () => (await fetch(`${chUrl}/?query=SELECT%201`)).ok;
    await waitUntil('private redis', probeRedis, 15_000);
    await waitUntil('private clickhouse', probeClickHouse, 30_000);

    await createTopic(kafka, source, PARTITIONS);
    const serde = createAvroSerde(TxnEvent, createRegistryClient(endpoints.schemaRegistryUrl), {
      topic: source,
    });
    const events = cardTxns(800, { cards: 20, t0: hoursAgo(), stepMs: 1500 });
    const encode = async (list: TxnEventRecord[]): Promise<Message[]> =>
      Promise.all(list.map(async (e) => ({ key: e.cardId, value: await serde.serialize(e) })));

    // Capture the worker's retry warnings: they prove each outage was really felt by the pipeline.
    const retries: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          const line = JSON.parse(chunk.toString('utf8')) as { msg?: string; sink?: string };
          // Retries inside a sink's writer and retries of a whole write by the runtime both count.
          if (line.sink && /retry|retrying/.test(line.msg ?? '')) retries.push(line.sink);
          done();
        },
      }),
    );
    const t = cardFeaturesTopology({ name, sourceTopic: source, featuresTopic: null, decoder: serde });
    const worker = new TopologyWorker(t, {
      instanceId: 'f1',
      kafka,
      endpoints: { ...endpoints, redisUrl, clickhouse },
      logger,
      barrierIntervalMs: 200,
    });
    let fatal: Error | undefined;
    worker.onFatal((e) => (fatal = e));
    await worker.start();
    try {
      const quarter = events.length / 4;
      await produce(kafka, source, await encode(events.slice(0, quarter)));
      await sleep(1500);

      await stop(redisServer);
      await produce(kafka, source, await encode(events.slice(quarter, 2 * quarter)));
      await sleep(10_000);
      redisServer = startRedis(redisPort);
      await waitUntil('redis back', probeRedis, 15_000);

      await produce(kafka, source, await encode(events.slice(2 * quarter, 3 * quarter)));
      await sleep(1500);
      await stop(chServer);
      await produce(kafka, source, await encode(events.slice(3 * quarter)));
      await sleep(10_000);
      chServer = startClickHouse(chPort);
      await waitUntil('clickhouse back', probeClickHouse, 30_000);

      // Close every window: one event per partition far ahead of the rest.
      const flush = await windowClosers(events[0]!, PARTITIONS, (e) => serde.serialize(e));
      await produce(kafka, source, flush);

      // Lag back to zero: the group's committed offsets reach the end of every partition.
      await waitForCommittedEnd(kafka, name, source, 60_000);
    } finally {
      await worker.stop();
    }
    assert.equal(fatal, undefined, 'the worker rode out both outages');
    assert.ok(
      retries.some((s) => s.startsWith('online:')),
      'the Redis outage made online writes retry',
    );
    assert.ok(
      retries.some((s) => s.startsWith('offline:')),
      'the ClickHouse outage made offline writes retry',
    );

    // Reference by brute force.
    const client = createClickHouseClient(clickhouse);
    const redis = new Redis(redisUrl);
    try {
      const rows = async (view: (typeof cardViews)[number]) =>
        (
          await client.query({
            query: `SELECT * FROM ${featureTableName(view)} FINAL ORDER BY entity, window_start`,
            format: 'JSONEachRow',
          })
        ).json<Record<string, string | number>>();
      const rows1m = await rows(cardViews[0]);
      assertMinuteWindows(rows1m, events);
      const total = (list: Record<string, string | number>[], f: string) =>
        list.reduce((s, r) => s + Number(r[f]), 0);
      assert.equal(
        total(await rows(cardViews[1]), 'txnCount1h'),
        events.length * 12,
        'each event counted in its 12 hops',
      );
      const sessions = await rows(cardViews[2]);
      assert.equal(sessions.length, 20);
      assert.equal(total(sessions, 'sessionTxnCount'), events.length, 'each event in exactly one session');

      for (let c = 0; c < 20; c += 1) {
        const entity = `card-${c}`;
        const last = rows1m.filter((r) => r.entity === entity).at(-1)!;
        const hash = await redis.hgetall(`sluice:fv:card_txn_1m:{${entity}}`);
        assert.equal(Number(hash.__v), Number(last.window_end), `online ${entity} holds its latest window`);
        assert.equal(Number(hash.txnCount1m), Number(last.txnCount1m));
        const session = await redis.hgetall(`sluice:fv:card_session:{${entity}}`);
        assert.equal(Number(session.sessionTxnCount), events.filter((e) => e.cardId === entity).length);
      }
    } finally {
      redis.disconnect();
      await client.close();
    }
  },
);

after(async () => {
  for (const child of started) await stop(child);
  await deleteTopics(kafka, [source, ...topologyTopics(name)]);
  rmSync(dir, { recursive: true, force: true });
});
