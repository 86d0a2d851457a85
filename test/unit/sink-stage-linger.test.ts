/**
 * The sink stage's linger policy: records are written once the input goes idle (no barrier, no full batch
 * needed), one write at a time and in order, while barriers still wait for every write before them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Subject } from 'rxjs';
import type { SinkWriter } from '../../connectors/sink.js';
import type { Barrier, Element, StreamRecord } from '../../schemas/stream.js';
import { sinkStage, type SinkStageOptions } from '../../topologies/runtime/sink-stage.js';

const record = (offset: number): StreamRecord<number> => ({
  kind: 'record',
  value: offset,
  key: String(offset),
  eventTime: offset,
  source: { topic: 't', partition: 0, offset: String(offset), timestamp: offset },
  headers: {},
});
const barrier = (id: number, nextOffset: number): Barrier => ({
  kind: 'barrier',
  id,
  partition: 0,
  nextOffset: String(nextOffset),
});

/** A sink that records every call and resolves (or fails) each write when the test says so. */
class ControlledWriter implements SinkWriter<number> {
  readonly calls: number[][] = [];
  readonly written: number[] = [];
  /** Most writes in flight at once. */
  maxInFlight = 0;
  private inFlight = 0;
  private readonly pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** When set, every write resolves on its own after this many ms. */
  constructor(private readonly autoMs?: number) {}

  write(batch: readonly StreamRecord<number>[]): Promise<void> {
    const values = batch.map((r) => r.value);
    this.calls.push(values);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.inFlight -= 1;
        this.written.push(...values);
        resolve();
      };
      const fail = (e: Error) => {
        this.inFlight -= 1;
        reject(e);
      };
      if (this.autoMs !== undefined) setTimeout(done, this.autoMs);
      else this.pending.push({ resolve: done, reject: fail });
    });
  }

  /** Settles the oldest pending write. */
  settle(error?: Error): void {
    const next = this.pending.shift();
    assert.ok(next, 'a write is pending');
    if (error) next.reject(error);
    else next.resolve();
  }

  get pendingWrites(): number {
    return this.pending.length;
  }

  async close() {}
}

function run(writer: SinkWriter<number>, options: Partial<SinkStageOptions> = {}) {
  const input = new Subject<Element<number>>();
  const barriers: number[] = [];
  const errors: unknown[] = [];
  const sub = input
    .pipe(
      sinkStage(writer, {
        name: 'test-sink',
        maxBatch: 100,
        logger: pino({ level: 'silent' }),
        maxRetryDelayMs: 5,
        reject: () => assert.fail('nothing is refused in these tests'),
        ...options,
      }),
    )
    .subscribe({ next: (b) => barriers.push(b.id), error: (e: unknown) => errors.push(e) });
  return { input, barriers, errors, stop: () => sub.unsubscribe() };
}

/** Waits until `condition` holds (or fails after 2 s), so a slow machine does not fail a test. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const feed = (input: Subject<Element<number>>, from: number, to: number) => {
  for (let i = from; i < to; i++) input.next(record(i));
};

test('records are written once the input goes idle, without a barrier or a full batch', async () => {
  const writer = new ControlledWriter(0);
  const { input, barriers, stop } = run(writer);
  feed(input, 0, 5); // one synchronous burst, well under maxBatch
  assert.deepEqual(writer.calls, [], 'nothing is written in the middle of a burst');
  await until(() => writer.calls.length > 0, 'the idle write');
  await sleep(10);
  assert.deepEqual(writer.calls, [[0, 1, 2, 3, 4]], 'the burst went out as one write');
  assert.deepEqual(barriers, []);
  stop();
});

test('lingerMs holds an idle batch that long, so later records join it', async () => {
  const writer = new ControlledWriter(0);
  const { input, stop } = run(writer, { lingerMs: 300 });
  const started = Date.now();
  feed(input, 0, 2);
  await sleep(15);
  feed(input, 2, 4);
  await sleep(15);
  assert.deepEqual(writer.calls, [], 'still lingering');
  await until(() => writer.calls.length > 0, 'the lingered write');
  assert.ok(Date.now() - started >= 290, 'written no earlier than lingerMs after the first record');
  assert.deepEqual(writer.calls, [[0, 1, 2, 3]]);
  stop();
});

test('lingerMs: Infinity keeps the old policy: only a full batch or a barrier writes', async () => {
  const writer = new ControlledWriter(0);
  const { input, barriers, stop } = run(writer, { lingerMs: Number.POSITIVE_INFINITY, maxBatch: 3 });
  feed(input, 0, 5);
  await sleep(20);
  assert.deepEqual(writer.calls, [[0, 1, 2]]);
  input.next(barrier(1, 5));
  await sleep(20);
  assert.deepEqual(writer.calls, [
    [0, 1, 2],
    [3, 4],
  ]);
  assert.deepEqual(barriers, [1]);
  stop();
});

test('one write at a time: records that go idle during a write leave together after it, in order', async () => {
  const writer = new ControlledWriter();
  const { input, stop } = run(writer);
  feed(input, 0, 3);
  await sleep(5);
  assert.equal(writer.pendingWrites, 1);
  // Three separate bursts while the first write is still in flight.
  for (const [a, b] of [
    [3, 5],
    [5, 6],
    [6, 9],
  ] as const) {
    feed(input, a, b);
    await sleep(5);
  }
  assert.equal(writer.pendingWrites, 1, 'no second write starts while one is in flight');
  writer.settle();
  await sleep(5);
  assert.deepEqual(writer.calls, [
    [0, 1, 2],
    [3, 4, 5, 6, 7, 8],
  ]);
  writer.settle();
  await sleep(5);
  assert.deepEqual(writer.written, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(writer.maxInFlight, 1);
  stop();
});

test('a barrier is forwarded only after every write before it resolved, idle-flushed ones included', async () => {
  const writer = new ControlledWriter();
  const { input, barriers, stop } = run(writer, { maxBatch: 4 });
  feed(input, 0, 2);
  await sleep(5); // idle flush: write [0, 1] is in flight
  feed(input, 2, 7); // a full batch [2..5] and one record [6] behind it
  input.next(barrier(1, 7));
  feed(input, 7, 8); // after the barrier
  await sleep(5);
  assert.deepEqual(barriers, []);
  writer.settle();
  await sleep(5);
  assert.deepEqual(barriers, [], 'two writes before the barrier are still open');
  writer.settle();
  await sleep(5);
  assert.deepEqual(barriers, []);
  writer.settle();
  await sleep(5);
  assert.deepEqual(barriers, [1]);
  assert.deepEqual(writer.calls.slice(0, 3), [[0, 1], [2, 3, 4, 5], [6]]);
  // The record after the barrier goes out on its own (idle), after the barrier.
  assert.deepEqual(writer.calls[3], [7]);
  writer.settle();
  await sleep(5);
  assert.deepEqual(writer.written, [0, 1, 2, 3, 4, 5, 6, 7]);
  stop();
});

test('an idle-flushed write that fails transiently is retried, and nothing overtakes it', async () => {
  const writer = new ControlledWriter();
  const { input, barriers, errors, stop } = run(writer);
  feed(input, 0, 2);
  await sleep(5);
  feed(input, 2, 3);
  input.next(barrier(1, 3));
  await sleep(5);
  writer.settle(Object.assign(new Error('broker not available'), { retriable: true }));
  await until(() => writer.calls.length === 2, 'the retry');
  assert.deepEqual(writer.calls, [
    [0, 1],
    [0, 1],
  ]);
  assert.deepEqual(barriers, []);
  writer.settle();
  await sleep(5);
  writer.settle();
  await sleep(5);
  assert.deepEqual(writer.calls, [[0, 1], [0, 1], [2]]);
  assert.deepEqual(writer.written, [0, 1, 2]);
  assert.deepEqual(barriers, [1]);
  assert.deepEqual(errors, []);
  stop();
});

test('bad linger configuration fails fast with a message naming the option', () => {
  const writer = new ControlledWriter(0);
  assert.throws(() => run(writer, { lingerMs: -1 }), /lingerMs must be >= 0/);
  assert.throws(() => run(writer, { lingerMs: Number.NaN }), /lingerMs must be >= 0/);
  assert.throws(() => run(writer, { maxBatch: 0 }), /maxBatch must be an integer >= 1/);
});

test('nothing is written after unsubscribe (revoke): the idle flush is cancelled', async () => {
  const writer = new ControlledWriter(0);
  const { input, stop } = run(writer);
  feed(input, 0, 3);
  stop();
  await sleep(20);
  assert.deepEqual(writer.calls, []);
});

test('a failing write is not retried once the stage is torn down (its pipeline was dropped)', async () => {
  const writer = new ControlledWriter();
  const { input, errors, stop } = run(writer, { maxRetryDelayMs: 50 });
  feed(input, 0, 2);
  await until(() => writer.pendingWrites === 1, 'the first write');
  // Dropped while the write is in flight; it then fails, and a retry would write through a producer
  // the worker may already have closed (stock kafkajs reconnected it, and the process never exited).
  stop();
  writer.settle(Object.assign(new Error('broker not available'), { retriable: true }));
  await sleep(150);
  assert.deepEqual(writer.calls, [[0, 1]], 'no retry after teardown');
  assert.deepEqual(errors, [], 'a torn-down stage reports nothing');
});
