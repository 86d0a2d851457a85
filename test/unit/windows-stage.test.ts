import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { from, lastValueFrom, toArray } from 'rxjs';
import type {
  Barrier,
  DeadLetterReason,
  Element,
  KeyValueStore,
  PartitionContext,
  RawRecord,
  SourcePosition,
  Stage,
  StreamRecord,
} from '../../schemas/stream.js';
import { aggregate } from '../../operators/aggregate/aggregate.js';
import { count } from '../../operators/aggregate/count.js';
import { distinctCount } from '../../operators/aggregate/distinct-count.js';
import { last } from '../../operators/aggregate/last.js';
import { sum } from '../../operators/aggregate/sum.js';
import { lateEventsCounter } from '../../operators/windows/late-counter.js';
import { session } from '../../operators/windows/session.js';
import { tumbling } from '../../operators/windows/tumbling.js';
import { window, type WindowResult } from '../../operators/windows/window-stage.js';

// ---- code around the behaviour: a small in-memory PartitionContext ----

interface Txn {
  cardId: string;
  amount: number;
  merchantId: string;
  country: string;
}

class MapStore implements KeyValueStore<unknown> {
  readonly map: Map<string, unknown>;
  constructor(json?: string) {
    this.map = new Map(json ? (JSON.parse(json) as [string, unknown][]) : []);
  }
  get = (key: string): unknown => this.map.get(key);
  put = (key: string, value: unknown): void => void this.map.set(key, value);
  delete = (key: string): void => void this.map.delete(key);
  keys = (): IterableIterator<string> => this.map.keys();
  get size(): number {
    return this.map.size;
  }
}

interface TestContext extends PartitionContext {
  /** Ordered log of everything observable: side outputs and captures. */
  readonly log: string[];
  readonly deadLetters: [RawRecord, DeadLetterReason][];
  readonly late: [StreamRecord<unknown>, DeadLetterReason][];
  /** Store JSON captured at each barrier id (what the changelog would commit). */
  readonly checkpoints: Map<number, Record<string, string>>;
  readonly stores: Map<string, MapStore>;
}

function makeContext(restored: Record<string, string> = {}, raws: RawRecord[] = []): TestContext {
  const stores = new Map<string, MapStore>();
  const ctx: TestContext = {
    topology: 'test-topology',
    topic: 'txn.events',
    partition: 3,
    log: [],
    deadLetters: [],
    late: [],
    checkpoints: new Map(),
    stores,
    store<V>(name: string): KeyValueStore<V> {
      if (!stores.has(name)) stores.set(name, new MapStore(restored[name]));
      return stores.get(name)! as unknown as KeyValueStore<V>;
    },
    captureState(barrier: Barrier) {
      ctx.log.push(`capture ${barrier.id}`);
      const snapshot: Record<string, string> = {};
      for (const [name, store] of stores) snapshot[name] = JSON.stringify([...store.map]);
      ctx.checkpoints.set(barrier.id, snapshot);
    },
    side: {
      deadLetter(record, reason) {
        ctx.log.push(`deadLetter ${reason.code}`);
        ctx.deadLetters.push([record, reason]);
      },
      late(record, reason) {
        ctx.log.push(`late ${record.source.offset}`);
        ctx.late.push([record, reason]);
      },
    },
    raw: (position: SourcePosition) => raws.find((r) => r.source.offset === position.offset),
  };
  return ctx;
}

let offset = 0;
const rec = (key: string | null, eventTime: number, amount = 1, merchantId = 'm1'): StreamRecord<Txn> => ({
  kind: 'record',
  key,
  eventTime,
  value: { cardId: key ?? '', amount, merchantId, country: `c${eventTime}` },
  source: { topic: 'txn.events', partition: 3, offset: String(offset++), timestamp: eventTime },
  headers: { trace: `t${offset}` },
});
const barrier = (id: number): Barrier => ({ kind: 'barrier', id, partition: 3, nextOffset: String(offset) });

// Types flow from the stage's declared type into the spec: `e` is inferred as Txn (a typo in a field name
// fails tsc) and the result type is inferred from the spec; tsc checks both against the annotation.
type Features = { txnCount: number; amountSum: number; merchants: number; lastCountry: string | null };
const features = (): Stage<Txn, WindowResult<Features>> =>
  window(tumbling('10ms'), {
    aggregate: aggregate({
      txnCount: count(),
      amountSum: sum((e) => e.amount),
      merchants: distinctCount((e) => e.merchantId),
      lastCountry: last((e) => e.country),
    }),
    grace: '5ms',
  });

async function run<T, R>(stage: Stage<T, R>, ctx: TestContext, input: Element<T>[]): Promise<Element<R>[]> {
  const out = await lastValueFrom(from(input).pipe(stage(ctx), toArray()));
  return out;
}
const describeOut = (out: Element<WindowResult<unknown>>[]): string[] =>
  out.map((e) =>
    e.kind === 'barrier' ? `barrier ${e.id}` : `window ${e.key} ${e.value.start}-${e.value.end}`,
  );

describe('window stage', () => {
  it('emits each closed window once with key, eventTime = end - 1 and the closing record position', async () => {
    const ctx = makeContext();
    const closing = rec('card1', 16);
    const input = [
      rec('card1', 1, 10, 'm1'),
      rec('card1', 9, 5, 'm2'),
      rec('card2', 4, 7),
      rec('card1', 3, 1, 'm1'),
      closing,
    ];
    const out = await run(features(), ctx, input);
    assert.deepEqual(out, [
      {
        kind: 'record',
        key: 'card1',
        eventTime: 9,
        value: {
          key: 'card1',
          start: 0,
          end: 10,
          value: { txnCount: 3, amountSum: 16, merchants: 2, lastCountry: 'c9' },
        },
        source: closing.source,
        headers: closing.headers,
      },
      {
        kind: 'record',
        key: 'card2',
        eventTime: 9,
        value: {
          key: 'card2',
          start: 0,
          end: 10,
          value: { txnCount: 1, amountSum: 7, merchants: 1, lastCountry: 'c4' },
        },
        source: closing.source,
        headers: closing.headers,
      },
    ]);
  });

  it('captures state at each barrier and forwards it after the windows closed before it', async () => {
    const ctx = makeContext();
    const out = await run(features(), ctx, [rec('a', 1), barrier(1), rec('a', 20), barrier(2), rec('a', 22)]);
    assert.deepEqual(describeOut(out), ['barrier 1', 'window a 0-10', 'barrier 2']);
    assert.deepEqual(ctx.log, ['capture 1', 'capture 2']);
    // The capture at barrier 2 already reflects the closed window being gone and t=20 being open.
    const store = new Map(JSON.parse(ctx.checkpoints.get(2)!['window.tumbling(10)']!) as [string, unknown][]);
    assert.deepEqual([...store.keys()].sort(), ['#meta', '["a",20]']);
  });

  it('restoring the state captured at a barrier and replaying the rest gives the uninterrupted output', async () => {
    offset = 100;
    const input: Element<Txn>[] = [];
    for (let i = 0; i < 60; i++) {
      input.push(rec(`k${i % 3}`, ((i * 7) % 50) + Math.floor(i / 4) * 3, i, `m${i % 5}`));
      if (i % 10 === 9) input.push(barrier(i));
    }
    const whole = await run(features(), makeContext(), input);
    const crashed = makeContext();
    const cutAt = input.findIndex((e) => e.kind === 'barrier' && e.id === 29);
    const before = await run(features(), crashed, input.slice(0, cutAt + 1));
    // "kill -9" after barrier 29 committed, then some uncommitted progress is lost and replayed.
    const resumed = await run(features(), makeContext(crashed.checkpoints.get(29)), input.slice(cutAt + 1));
    assert.ok(whole.filter((e) => e.kind === 'record').length > 5);
    assert.deepEqual([...before, ...resumed], whole);
  });

  it('sends records without a key to the dead-letter output with the raw record or a reconstruction', async () => {
    offset = 200;
    const keyless = rec(null, 5);
    const withRaw = rec(null, 6);
    const raw: RawRecord = {
      key: null,
      value: Buffer.from('original bytes'),
      headers: {},
      source: withRaw.source,
    };
    const ctx = makeContext({}, [raw]);
    const out = await run(features(), ctx, [keyless, withRaw, rec('a', 1), rec('a', 30)]);
    assert.equal(out.length, 1);
    assert.equal(ctx.deadLetters.length, 2);
    const [[first, reason], [second]] = ctx.deadLetters as [
      [RawRecord, DeadLetterReason],
      [RawRecord, DeadLetterReason],
    ];
    assert.equal(reason.code, 'NULL_KEY');
    assert.match(reason.message, /keyBy/);
    assert.deepEqual(JSON.parse(first.value!.toString()), keyless.value);
    assert.deepEqual(first.source, keyless.source);
    assert.equal(second, raw);
  });

  it('dead-letters unusable event times and throwing extractors instead of failing the partition', async () => {
    const ctx = makeContext();
    const stage = window<Txn, { s: number }>(tumbling(10), {
      aggregate: aggregate({
        s: sum((e: Txn) => {
          if (e.amount < 0) throw new Error('negative amount');
          return e.amount;
        }),
      }),
    });
    const out = await run(stage, ctx, [rec('a', Number.NaN), rec('a', 1, -1), rec('a', 2, 4), rec('a', 10)]);
    assert.deepEqual(
      ctx.deadLetters.map(([, r]) => r.code),
      ['INVALID_EVENT_TIME', 'AGGREGATE_INPUT'],
    );
    assert.match(ctx.deadLetters[1]![1].message, /negative amount/);
    assert.deepEqual(
      out.map((e) => (e.kind === 'record' ? e.value.value : null)),
      [{ s: 4 }],
    );
  });

  it('sends late records to the late output with how late they are, and counts them', async () => {
    offset = 300;
    const labels = { topology: 'test-topology', partition: '3' };
    const countBefore =
      (await lateEventsCounter.get()).values.find((v) => v.labels.partition === '3')?.value ?? 0;
    const ctx = makeContext();
    const tooLate = rec('a', 2);
    await run(features(), ctx, [rec('a', 1), rec('a', 40), tooLate]);
    assert.equal(ctx.late.length, 1);
    const [record, reason] = ctx.late[0]!;
    assert.equal(record, tooLate);
    assert.equal(reason.code, 'LATE');
    assert.match(reason.message, /38 ms behind the watermark 40/);
    assert.match(reason.message, /closed at watermark 15 \(25 ms ago, grace 5 ms\)/);
    const after = (await lateEventsCounter.get()).values.find(
      (v) => v.labels.topology === labels.topology && v.labels.partition === labels.partition,
    );
    assert.equal(after?.value, countBefore + 1);
  });

  it('session windows through the stage merge bridged sessions', async () => {
    const ctx = makeContext();
    const stage = window(session('5ms'), {
      aggregate: aggregate({ n: count<Txn>() }),
      outOfOrderness: '10ms',
    });
    const out = await run(stage, ctx, [rec('a', 1), rec('a', 10), rec('a', 6), rec('a', 40)]);
    assert.deepEqual(
      out.map((e) => (e.kind === 'record' ? [e.value.start, e.value.end, e.value.value.n] : null)),
      [[1, 11, 3]],
    );
  });

  it('fails fast on bad configuration and on two stages sharing one store', async () => {
    assert.throws(() => window(tumbling('1m'), { aggregate: undefined as never }), /needs aggregate/);
    assert.throws(
      () => window(tumbling('1m'), { aggregate: aggregate({ n: count() }), grace: '30 seconds' }),
      /Invalid window grace "30 seconds"/,
    );
    assert.throws(
      () =>
        window(tumbling('1m'), {
          aggregate: aggregate({ n: count() }),
          lateness: '1s',
          outOfOrderness: '1s',
        }),
      /either outOfOrderness or its alias lateness/,
    );
    const ctx = makeContext();
    const a = features()(ctx);
    // A second window over the first one's results, also on tumbling(10ms): same default store name.
    const b = window(tumbling('10ms'), { aggregate: aggregate({ n: count<WindowResult<Features>>() }) })(ctx);
    await assert.rejects(lastValueFrom(from([rec('a', 1)]).pipe(a, b)), /distinct `store` option/);
  });
});
