/**
 * The partition pipeline around the operators: which records it feeds (a re-delivered batch is not fed
 * twice), which offset each checkpoint resumes from, and that a later stage's dead letter still carries
 * the original Kafka bytes after earlier checkpoints released theirs. The commit and the sink are in
 * memory here; the Kafka side of both is covered by the integration tests.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import pino from 'pino';
import { Observable } from 'rxjs';
import type { SinkWriter } from '../../connectors/sink.js';
import { rawOf } from '../../operators/raw-of.js';
import { mapValues, recordStage } from '../../operators/record-stage.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import {
  PartitionPipeline,
  POSITION_KEY,
  changelogKey,
  type CheckpointReady,
} from '../../topologies/runtime/partition-pipeline.js';
import type { DeadLetterReason, Element, RawRecord, Stage, StreamRecord } from '../../schemas/stream.js';

const message = (offset: number, value: string): KafkaMessage =>
  ({
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(value),
    timestamp: String(1_700_000_000_000 + offset),
    headers: offset % 2 === 0 ? {} : { trace: Buffer.from(`t${offset}`) },
    attributes: 0,
  }) as KafkaMessage;

interface Harness {
  readonly pipeline: PartitionPipeline;
  readonly written: StreamRecord<unknown>[];
  readonly checkpoints: CheckpointReady[];
  readonly deadLetters: { raw: RawRecord; reason: DeadLetterReason }[];
  settle(): Promise<void>;
}

/** A pipeline that decodes values to strings, then dead-letters those starting with "bad" (with the raw bytes). */
function harness(barrierEveryRecords: number, caughtUpCheckpointMs?: number): Harness {
  const written: StreamRecord<unknown>[] = [];
  const checkpoints: CheckpointReady[] = [];
  const deadLetters: { raw: RawRecord; reason: DeadLetterReason }[] = [];
  const writer: SinkWriter<unknown> = {
    async write(records) {
      written.push(...records);
    },
    async close() {},
  };
  // Values are strings by the time the rejecting stage sees them, so only the held message has the bytes.
  const rejectBad = recordStage<string, string>((ctx) => (record) => {
    if (!record.value.startsWith('bad')) return record;
    ctx.side.deadLetter(rawOf(ctx, record), { code: 'BAD', message: 'starts with bad' });
    return null;
  });
  const t = topology('pipeline-unit')
    .from(kafkaSource('events'))
    .pipe(mapValues((v) => v?.toString('latin1') ?? ''))
    .pipe(rejectBad)
    .to({ name: 'memory', topics: [], open: async () => writer });
  const pipeline = new PartitionPipeline({
    topology: t,
    partition: 3,
    restored: new Map(),
    sinkWriters: [writer],
    logger: pino({ level: 'silent' }),
    barrierEveryRecords,
    barrierIntervalMs: 60_000,
    ...(caughtUpCheckpointMs === undefined ? {} : { caughtUpCheckpointMs }),
    maxOutstandingBarriers: 1_000,
    sinkMaxBatch: 100,
    writeSide: async (_kind, raw, reason) => void deadLetters.push({ raw, reason }),
    commit: async (checkpoint) => void checkpoints.push(checkpoint),
    onCredit: () => undefined,
    onFatal: (err) => assert.fail(err),
  });
  pipeline.start();
  const settle = async () => {
    for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
  };
  return { pipeline, written, checkpoints, deadLetters, settle };
}

test('a later stage dead-letters the original bytes, found by offset after earlier checkpoints were released', async () => {
  const h = harness(500);
  // Offsets step by 3 (as after compaction or transaction markers): the lookup cannot be by position.
  const batch = Array.from({ length: 20_000 }, (_, i) =>
    message(i * 3, i % 997 === 0 ? `bad-${i}` : `ok-${i}`),
  );
  for (let i = 0; i < batch.length; i += 1000) {
    h.pipeline.enqueue(batch.slice(i, i + 1000));
    await h.settle();
  }
  const expected = batch.filter((m) => m.value?.toString().startsWith('bad'));
  assert.equal(h.deadLetters.length, expected.length);
  for (const [i, { raw, reason }] of h.deadLetters.entries()) {
    const original = expected[i] as KafkaMessage;
    assert.equal(raw.source.offset, original.offset);
    assert.equal(raw.value?.toString(), original.value?.toString(), 'the original bytes, not a re-encoding');
    assert.equal(raw.key?.toString(), original.key?.toString());
    assert.equal(reason.code, 'BAD');
  }
  assert.equal(h.written.length, batch.length - expected.length);
  // Checkpoints committed every 500 records released them: only the unfinished tail is still held.
  assert.ok(h.checkpoints.length >= 39, `${h.checkpoints.length} checkpoints`);
  assert.ok(h.pipeline.heldRecords < 500, `still holding ${h.pipeline.heldRecords} records`);
});

test('each checkpoint resumes after the last record fed before it, and a re-delivered batch is not fed again', async () => {
  const h = harness(4);
  h.pipeline.enqueue([message(10, 'a'), message(11, 'b'), message(12, 'c'), message(14, 'd')]);
  await h.settle();
  // A fetch that overlaps what was taken (e.g. after a seek) brings 12 and 14 again, then 15..18.
  h.pipeline.enqueue([12, 14, 15, 16, 17, 18].map((o) => message(o, `v${o}`)));
  await h.settle();
  assert.deepEqual(
    h.written.map((r) => r.source.offset),
    ['10', '11', '12', '14', '15', '16', '17', '18'],
  );
  assert.deepEqual(
    h.checkpoints.map((c) => c.nextOffset),
    ['15', '19'],
  );
  // Headers arrive as strings; records without headers share one empty object.
  assert.equal(h.written[1]?.headers.trace, 't11');
  assert.deepEqual(h.written[0]?.headers, {});
});

test('a header named __proto__ is kept as a header (kafkajs decodes it as an own property)', async () => {
  const h = harness(1);
  const m = message(1, 'a');
  m.headers = {};
  Object.defineProperty(m.headers, '__proto__', { value: Buffer.from('x'), enumerable: true });
  h.pipeline.enqueue([m]);
  await h.settle();
  const headers = h.written[0]?.headers ?? {};
  assert.equal(Object.getPrototypeOf(headers), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value, 'x');
});

test('a batch kafkajs could not decompress is dead-lettered in its place, and the checkpoint moves past it', async () => {
  const h = harness(4);
  const undecompressable = Object.assign(message(7, 'compressed bytes'), {
    key: null,
    decompressError: {
      message: 'gzip batch expands past the 1,024-byte bound on a decompressed batch',
      firstOffset: '4',
      records: 4,
    },
  });
  h.pipeline.enqueue([message(2, 'a'), message(3, 'b'), undecompressable, message(8, 'c')]);
  await h.settle();
  assert.deepEqual(
    h.written.map((r) => r.source.offset),
    ['2', '3', '8'],
  );
  assert.equal(h.deadLetters.length, 1);
  const [{ raw, reason }] = h.deadLetters as [{ raw: RawRecord; reason: DeadLetterReason }];
  assert.equal(reason.code, 'UNDECOMPRESSABLE_BATCH');
  assert.match(reason.message, /batch of 4 records at offsets 4-7 could not be decompressed \(gzip/);
  assert.equal(raw.source.offset, '7');
  assert.equal(raw.value?.toString(), 'compressed bytes');
  assert.deepEqual(
    h.checkpoints.map((c) => c.nextOffset),
    ['9'],
  );
});

/** Counts records per value in a store, capturing its changes at every barrier (as the window stage does). */
const countPerValue: Stage<Buffer | null, Buffer | null> = (ctx) => (source) =>
  new Observable<Element<Buffer | null>>((subscriber) =>
    source.subscribe({
      next: (element) => {
        if (element.kind === 'barrier') ctx.captureState(element);
        else {
          const store = ctx.store<number>('counts');
          const key = element.value?.toString() ?? '';
          store.put(key, (store.get(key) ?? 0) + 1);
        }
        subscriber.next(element);
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }),
  );

test('checkpoints that become ready while a commit is in flight go out together in the next one', async () => {
  const commits: CheckpointReady[] = [];
  let releaseFirst: () => void = () => undefined;
  const firstCommitted = new Promise<void>((r) => (releaseFirst = r));
  const writer: SinkWriter<unknown> = { async write() {}, async close() {} };
  const pipeline = new PartitionPipeline({
    topology: topology('coalesce-unit')
      .from(kafkaSource('events'))
      .pipe(countPerValue)
      .to({ name: 'memory', topics: [], open: async () => writer }),
    partition: 0,
    restored: new Map(),
    sinkWriters: [writer],
    logger: pino({ level: 'silent' }),
    barrierEveryRecords: 2,
    barrierIntervalMs: 60_000,
    maxOutstandingBarriers: 1_000,
    sinkMaxBatch: 100,
    writeSide: async () => undefined,
    commit: async (checkpoint) => {
      commits.push(checkpoint);
      if (commits.length === 1) await firstCommitted;
    },
    onCredit: () => undefined,
    onFatal: (err) => assert.fail(err),
  });
  pipeline.start();
  const settle = async () => {
    for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
  };
  pipeline.enqueue([message(0, 'a'), message(1, 'a')]);
  await settle();
  // Three more barriers pass the sink while the first commit hangs.
  pipeline.enqueue(['a', 'b', 'a', 'b', 'b', 'c'].map((v, i) => message(2 + i, v)));
  await settle();
  assert.equal(commits.length, 1, 'one commit in flight per partition');
  assert.equal(pipeline.heldRecords, 0, 'records past every sink are let go before their commit');
  assert.equal(pipeline.outstandingBarriers, 4, 'their checkpoints still count against the credit');
  releaseFirst();
  await settle();
  assert.equal(commits.length, 2, 'the three waiting checkpoints are committed as one');
  const [first, second] = commits as [CheckpointReady, CheckpointReady];
  assert.equal(first.nextOffset, '2');
  assert.equal(second.nextOffset, '8', 'resumes after the last of the merged checkpoints');
  assert.ok(second.barrierId > first.barrierId + 1);
  // Each key once, with its latest count; the position once, the last barrier's.
  const entries = new Map(second.changelog.map((e) => [e.key, e.value]));
  assert.equal(entries.size, second.changelog.length, 'no key written twice in one commit');
  assert.equal(entries.get(changelogKey('counts', 'a')), '4');
  assert.equal(entries.get(changelogKey('counts', 'b')), '3');
  assert.equal(entries.get(changelogKey('counts', 'c')), '1');
  assert.equal(entries.get(POSITION_KEY), JSON.stringify('8'));
  assert.equal(pipeline.outstandingBarriers, 0, 'every merged barrier is released');
  assert.equal(pipeline.heldRecords, 0);
});

test('a caught-up partition checkpoints soon; one with a backlog waits for the interval or the count', async () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Far apart on purpose: a loaded machine may stall the event loop for tens of ms.
  const soon = 150;
  const behind = harness(1_000, soon);
  behind.pipeline.enqueue([message(0, 'a'), message(1, 'b')], false);
  await sleep(3 * soon);
  await behind.settle();
  assert.equal(behind.checkpoints.length, 0, 'more is waiting in the partition: no early checkpoint');

  const caughtUp = harness(1_000, soon);
  caughtUp.pipeline.enqueue([message(0, 'a'), message(1, 'b')], true);
  await caughtUp.settle();
  assert.equal(caughtUp.checkpoints.length, 0, 'not before caughtUpCheckpointMs has passed');
  await sleep(3 * soon);
  await caughtUp.settle();
  assert.deepEqual(
    caughtUp.checkpoints.map((c) => c.nextOffset),
    ['2'],
  );
  // Nothing fed since: no empty checkpoints while the partition stays idle.
  await sleep(2 * soon);
  assert.equal(caughtUp.checkpoints.length, 1);
  caughtUp.pipeline.enqueue([message(2, 'c')], true);
  await sleep(3 * soon);
  await caughtUp.settle();
  assert.deepEqual(
    caughtUp.checkpoints.map((c) => c.nextOffset),
    ['2', '3'],
  );
  behind.pipeline.dispose();
  caughtUp.pipeline.dispose();
});
