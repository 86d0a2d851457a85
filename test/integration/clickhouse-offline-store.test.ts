/**
 * The ClickHouse offline store, with the same test body run against both modes: embedded chdb (a temp
 * data folder) and the HTTP server at SLUICE_CLICKHOUSE_HTTP_URL (the local stack's clickhouse-server
 * 18.16 by default). Table names carry a per-run prefix, so the suite can run twice against one server.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEndpoints, type ClickHouseEndpoint } from '../../connectors/config/endpoints.js';
import {
  ClickHouseBatchWriter,
  ClickHouseWriteError,
  MigrationError,
  applyMigrations,
  countFinal,
  countRaw,
  createClickHouseClient,
  detectDialect,
  replacingMergeTreeDDL,
  type ClickHouseClient,
  type Migration,
} from '../../connectors/clickhouse/index.js';
import { freePort } from '../support/free-port.js';

const runId = randomUUID().slice(0, 8);
const httpUrl = loadEndpoints().clickhouseHttpUrl;
const chdbDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-chdb-test-'));

const httpEndpoint: ClickHouseEndpoint = {
  mode: 'http',
  url: httpUrl,
  username: process.env.CLICKHOUSE_USER ?? 'default',
  password: process.env.CLICKHOUSE_PASSWORD ?? '',
  database: 'default',
};

const modes: { name: string; endpoint: ClickHouseEndpoint }[] = [
  { name: 'embedded chdb', endpoint: { mode: 'embedded', path: chdbDir } },
  { name: `http ${httpUrl}`, endpoint: httpEndpoint },
];

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

interface FeatureRow {
  entity: string;
  window_start: number;
  version: number;
  amount_sum: number;
}

const featureTable = (table: string) =>
  replacingMergeTreeDDL({
    table,
    columns: [
      ['entity', 'String'],
      ['window_start', 'UInt64'],
      ['version', 'UInt64'],
      ['amount_sum', 'Float64'],
    ],
    orderBy: ['entity', 'window_start'],
    versionColumn: 'version',
  });

for (const mode of modes) {
  describe(`clickhouse offline store (${mode.name})`, () => {
    const prefix = `sluice_t_${runId}_${mode.endpoint.mode}`;
    const created: string[] = [];
    const table = (name: string) => {
      const t = `${prefix}_${name}`;
      created.push(t);
      return t;
    };
    let client: ClickHouseClient;

    before(async () => {
      client = createClickHouseClient(mode.endpoint, { requestTimeoutMs: 10_000 });
      const ping = await client.ping();
      if (!ping.success) {
        throw new Error(
          `ClickHouse (${mode.name}) is not reachable: ${ping.error.message}. Start the local stack ` +
            '(npm run stack up) or point SLUICE_CLICKHOUSE_HTTP_URL at a running server.',
        );
      }
    });

    after(async () => {
      for (const t of created) await client.command({ query: `DROP TABLE IF EXISTS ${t}` });
      await client.close();
      if (mode.endpoint.mode === 'embedded') rmSync(mode.endpoint.path, { recursive: true, force: true });
    });

    it('detects a dialect that matches what the server actually accepts', async () => {
      const dialect = await detectDialect(client);
      const [reported] = await rows<{ v: string }>(client, 'SELECT version() AS v');
      assert.equal(dialect.version, reported?.v);
      const accepts = async (query: string) =>
        client.query({ query, format: 'JSONEachRow' }).then(
          async (r) => (await r.json(), true),
          () => false,
        );
      assert.equal(
        await accepts("SELECT toDateTime64('2020-01-01 00:00:00', 3) AS t"),
        dialect.features.dateTime64,
      );
      assert.equal(
        await accepts('SELECT number, sum(number) OVER (ORDER BY number) AS s FROM numbers(3)'),
        dialect.features.windowFunctions,
      );
    });

    it('applies migrations in order, once, and records them', async () => {
      const migrationsTable = table('migrations');
      const first = table('first');
      const second = table('second');
      const migrations: Migration[] = [
        { version: 2, name: `second 'table' \\ "quoted"\nline`, up: [featureTable(second)] },
        { version: 1, name: 'first table', up: [featureTable(first)] },
      ];
      const initial = await applyMigrations(client, migrations, { table: migrationsTable });
      assert.deepEqual(initial, { applied: [1, 2], alreadyApplied: [] });

      const again = await applyMigrations(client, migrations, { table: migrationsTable });
      assert.deepEqual(again, { applied: [], alreadyApplied: [1, 2] });
      assert.equal(await countRaw(client, migrationsTable), 2);

      const third = table('third');
      const more = [...migrations, { version: 3, name: 'third table', up: [featureTable(third)] }];
      assert.deepEqual(await applyMigrations(client, more, { table: migrationsTable }), {
        applied: [3],
        alreadyApplied: [1, 2],
      });
      const recorded = await rows<{ version: number | string; name: string }>(
        client,
        `SELECT version, name FROM ${migrationsTable} ORDER BY version`,
      );
      assert.deepEqual(
        recorded.map((r) => [Number(r.version), r.name]),
        [
          [1, 'first table'],
          [2, `second 'table' \\ "quoted"\nline`],
          [3, 'third table'],
        ],
      );
      for (const t of [first, second, third]) assert.equal(await countRaw(client, t), 0);
    });

    it('refuses a renamed migration and does not record a failed one', async () => {
      const migrationsTable = table('migrations_bad');
      const good = table('good');
      await applyMigrations(client, [{ version: 1, name: 'good', up: [featureTable(good)] }], {
        table: migrationsTable,
      });
      await assert.rejects(
        applyMigrations(client, [{ version: 1, name: 'renamed', up: [featureTable(good)] }], {
          table: migrationsTable,
        }),
        (err: Error) => err instanceof MigrationError && /append-only/.test(err.message),
      );
      const broken: Migration = { version: 2, name: 'broken', up: ['CREATE TABLE oops ENGINE = Nonsense'] };
      await assert.rejects(
        applyMigrations(client, [{ version: 1, name: 'good', up: [] }, broken], { table: migrationsTable }),
        (err: Error) =>
          err instanceof MigrationError && /migration 2 \(broken\) failed at statement 1/.test(err.message),
      );
      assert.equal(await countRaw(client, migrationsTable), 1);
    });

    it('buffers rows until flush and stores them all once flush resolves', async () => {
      const target = table('flush');
      await client.command({ query: featureTable(target) });
      const writer = new ClickHouseBatchWriter<FeatureRow>(client, target, {
        maxRows: 1000,
        maxDelayMs: 60_000,
      });
      for (let i = 0; i < 250; i += 1) {
        writer.add({ entity: `e${i}`, window_start: 60_000, version: 1, amount_sum: i * 0.5 });
      }
      assert.equal(await countRaw(client, target), 0, 'nothing is inserted before a flush');
      await writer.flush();
      assert.equal(writer.bufferedRows, 0);
      const [stats] = await rows<{ n: number | string; total: number }>(
        client,
        `SELECT count() AS n, sum(amount_sum) AS total FROM ${target}`,
      );
      assert.equal(Number(stats?.n), 250);
      assert.equal(stats?.total, (249 * 250 * 0.5) / 2);
      await writer.close();
    });

    it('flushes by size and by delay on its own', async () => {
      const target = table('auto');
      await client.command({ query: featureTable(target) });
      const writer = new ClickHouseBatchWriter<FeatureRow>(client, target, { maxRows: 100, maxDelayMs: 200 });
      for (let i = 0; i < 130; i += 1) {
        writer.add({ entity: `e${i}`, window_start: 0, version: 1, amount_sum: 1 });
      }
      // 100 rows go out by size at once; the other 30 after maxDelayMs, with no flush() call.
      const deadline = Date.now() + 5000;
      while ((await countRaw(client, target)) < 130 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await countRaw(client, target), 130);
      await writer.close();
    });

    it('ReplacingMergeTree keeps one row per key, the highest version, after FINAL', async () => {
      const target = table('dedup');
      await client.command({ query: featureTable(target) });
      const writer = new ClickHouseBatchWriter<FeatureRow>(client, target, {
        maxRows: 1000,
        maxDelayMs: 60_000,
      });
      const batch = (version: number) =>
        Array.from({ length: 40 }, (_, i) => ({
          entity: `e${i % 20}`,
          window_start: Math.floor(i / 20) * 60_000,
          version,
          amount_sum: version * 100 + i,
        }));
      // A replay: the same batch twice, then a newer version, then an older one arriving late.
      for (const version of [2, 2, 3, 1]) {
        for (const row of batch(version)) writer.add(row);
        await writer.flush();
      }
      assert.ok((await countRaw(client, target)) >= 40);
      assert.equal(await countFinal(client, target), 40);
      const final = await rows<{ version: number | string; amount_sum: number }>(
        client,
        `SELECT version, amount_sum FROM ${target} FINAL ORDER BY entity, window_start`,
      );
      assert.ok(final.every((r) => Number(r.version) === 3 && r.amount_sum >= 300));
      await writer.close();
    });

    it('fails a bad insert at once without retrying', async () => {
      let retries = 0;
      const writer = new ClickHouseBatchWriter<{ x: number }>(client, `${prefix}_missing_table`, {
        maxRows: 10,
        maxDelayMs: 60_000,
        onRetry: () => (retries += 1),
      });
      writer.add({ x: 1 });
      await assert.rejects(
        writer.flush(),
        (err: Error) => err instanceof ClickHouseWriteError && /not retryable/.test(err.message),
      );
      assert.equal(retries, 0);
      assert.equal(writer.bufferedRows, 1, 'the failed row stays buffered');
    });
  });
}

describe('clickhouse batch writer against an unreachable server', () => {
  const target = `sluice_t_${runId}_outage`;
  let client: ClickHouseClient;

  before(async () => {
    client = createClickHouseClient(httpEndpoint);
    await client.command({ query: featureTable(target) });
  });

  after(async () => {
    await client.command({ query: `DROP TABLE IF EXISTS ${target}` });
    await client.close();
  });

  it('retries, then fails with a clear error when the server stays down', async () => {
    const port = await freePort();
    const down = createClickHouseClient({ ...httpEndpoint, url: `http://127.0.0.1:${port}` });
    let retries = 0;
    const started = Date.now();
    try {
      const writer = new ClickHouseBatchWriter<FeatureRow>(down, target, {
        maxRows: 10,
        maxDelayMs: 60_000,
        retry: { retries: 50, minDelayMs: 50, maxDelayMs: 100, maxRetryTimeMs: 1000 },
        onRetry: () => (retries += 1),
      });
      writer.add({ entity: 'a', window_start: 0, version: 1, amount_sum: 1 });
      await assert.rejects(writer.flush(), (err: Error) => {
        assert.ok(err instanceof ClickHouseWriteError, `${err.name}: ${err.message}`);
        assert.match(err.message, new RegExp(`inserting 1 rows into ${target} failed after \\d+ attempt`));
        assert.match(err.message, /ECONNREFUSED/);
        assert.match(err.message, /is the server up\?/);
        return true;
      });
      assert.ok(retries >= 2, `expected several retries, got ${retries}`);
      assert.ok(Date.now() - started < 5000, 'the retry budget bounds the time to fail');
      assert.equal(writer.bufferedRows, 1);
    } finally {
      await down.close();
    }
  });

  it('a flush that started during an outage succeeds once the server is back, with nothing lost', async () => {
    const port = await freePort();
    const upstream = new URL(httpUrl);
    // The "server" comes back 700 ms into the flush: a proxy on the closed port forwards to the real one.
    const proxy = http.createServer((req, res) => {
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
    const comeBack = setTimeout(() => proxy.listen(port, '127.0.0.1'), 700);
    const flaky = createClickHouseClient({ ...httpEndpoint, url: `http://127.0.0.1:${port}` });
    let retries = 0;
    try {
      const writer = new ClickHouseBatchWriter<FeatureRow>(flaky, target, {
        maxRows: 100,
        maxDelayMs: 60_000,
        retry: { retries: 30, minDelayMs: 50, maxDelayMs: 200, maxRetryTimeMs: 10_000 },
        onRetry: () => (retries += 1),
      });
      for (let i = 0; i < 5; i += 1)
        writer.add({ entity: `r${i}`, window_start: 0, version: 1, amount_sum: i });
      await writer.flush();
      assert.ok(retries >= 1, 'the first attempt should have hit the outage');
      assert.equal(await countFinal(client, target), 5);
    } finally {
      clearTimeout(comeBack);
      await flaky.close();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
