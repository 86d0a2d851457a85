/**
 * Buffering and ack semantics of ClickHouseBatchWriter. A stand-in for the client's insert() records the
 * batches and can fail; the writer's logic is what is under test (the real servers are in
 * test/integration/clickhouse-offline-store.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClickHouseBatchWriter, ClickHouseWriteError } from '../../connectors/clickhouse/batch-writer.js';

interface Row {
  n: number;
}

function standInClient(failures: Error[] = []) {
  const stored: Row[][] = [];
  let calls = 0;
  return {
    stored,
    calls: () => calls,
    client: {
      insert: async (params: { table: string; values: unknown; format?: string }) => {
        calls += 1;
        await new Promise((r) => setImmediate(r));
        const failure = failures.shift();
        if (failure) throw failure;
        assert.equal(params.format, 'JSONEachRow');
        stored.push([...(params.values as Row[])]);
        return { executed: true, query_id: '', response_headers: {} } as never;
      },
    },
  };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
const fastRetry = { retries: 3, minDelayMs: 1, maxDelayMs: 2, maxRetryTimeMs: 1000 };

describe('ClickHouseBatchWriter', () => {
  it('splits a flush into maxRows inserts, in add order', async () => {
    const fake = standInClient();
    const writer = new ClickHouseBatchWriter<Row>(fake.client, 'db.t', { maxRows: 4, maxDelayMs: 60_000 });
    for (let n = 0; n < 3; n += 1) writer.add({ n });
    await writer.flush();
    for (let n = 3; n < 13; n += 1) writer.add({ n });
    await writer.flush();
    assert.deepEqual(
      fake.stored.flat().map((r) => r.n),
      Array.from({ length: 13 }, (_, n) => n),
    );
    assert.ok(fake.stored.every((batch) => batch.length <= 4));
  });

  it('retries transient failures inside flush and resolves once stored', async () => {
    const fake = standInClient([refused(), refused()]);
    let retries = 0;
    const writer = new ClickHouseBatchWriter<Row>(fake.client, 't', {
      maxRows: 10,
      maxDelayMs: 60_000,
      retry: fastRetry,
      onRetry: () => (retries += 1),
    });
    writer.add({ n: 1 });
    await writer.flush();
    assert.equal(retries, 2);
    assert.deepEqual(fake.stored, [[{ n: 1 }]]);
  });

  it('a later flush resolves only after the rows of an earlier failed flush are stored', async () => {
    const fake = standInClient([refused(), refused(), refused(), refused()]);
    const writer = new ClickHouseBatchWriter<Row>(fake.client, 't', {
      maxRows: 10,
      maxDelayMs: 60_000,
      retry: fastRetry,
    });
    writer.add({ n: 1 });
    const first = writer.flush();
    writer.add({ n: 2 });
    const second = writer.flush();
    await assert.rejects(first, ClickHouseWriteError);
    await second;
    // Resolving the second flush is an ack for row 1 too, so row 1 must be stored by then.
    assert.deepEqual(
      fake.stored.flat().map((r) => r.n),
      [1, 2],
    );
    assert.equal(writer.bufferedRows, 0);
  });

  it('does not retry a permanent error, and keeps the rows', async () => {
    const unknownTable = new Error(
      "Code: 60, e.displayText() = DB::Exception: Table default.t doesn't exist.",
    );
    const fake = standInClient([unknownTable]);
    const writer = new ClickHouseBatchWriter<Row>(fake.client, 't', {
      maxRows: 10,
      maxDelayMs: 60_000,
      retry: fastRetry,
    });
    writer.add({ n: 1 });
    await assert.rejects(writer.flush(), /after 1 attempt\(s\).*not retryable/);
    assert.equal(fake.calls(), 1);
    assert.equal(writer.bufferedRows, 1);
  });

  it('flushes on its own after maxDelayMs', async () => {
    const fake = standInClient();
    const writer = new ClickHouseBatchWriter<Row>(fake.client, 't', { maxRows: 100, maxDelayMs: 20 });
    writer.add({ n: 1 });
    assert.equal(fake.calls(), 0);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(fake.stored, [[{ n: 1 }]]);
  });

  it('reports background failures and bounds the buffer', async () => {
    const fake = standInClient([refused(), refused(), refused()]);
    const background: Error[] = [];
    const writer = new ClickHouseBatchWriter<Row>(fake.client, 't', {
      maxRows: 2,
      maxDelayMs: 60_000,
      maxBufferedRows: 3,
      retry: { ...fastRetry, retries: 1 },
      onBackgroundError: (e) => background.push(e),
    });
    writer.add({ n: 1 });
    writer.add({ n: 2 }); // size-triggered flush, which fails twice
    writer.add({ n: 3 });
    assert.throws(() => writer.add({ n: 4 }), /pause the input/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(background.length, 1);
    assert.ok(background[0] instanceof ClickHouseWriteError);
    // close() flushes the rows the failed background flush left behind (one more failure, then success).
    await writer.close();
    assert.deepEqual(
      fake.stored.flat().map((r) => r.n),
      [1, 2, 3],
    );
    assert.throws(() => writer.add({ n: 5 }), /closed/);
  });

  it('rejects bad configuration and bad rows with a clear message', () => {
    const fake = standInClient();
    assert.throws(
      () => new ClickHouseBatchWriter(fake.client, 't; DROP', { maxRows: 1, maxDelayMs: 1 }),
      /table name/,
    );
    assert.throws(
      () => new ClickHouseBatchWriter(fake.client, 't', { maxRows: 0, maxDelayMs: 1 }),
      /maxRows/,
    );
    const writer = new ClickHouseBatchWriter<Row>(fake.client, 't', { maxRows: 1, maxDelayMs: 1 });
    assert.throws(() => writer.add(null as never), /row object/);
  });
});
