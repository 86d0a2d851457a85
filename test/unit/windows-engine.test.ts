import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { KeyValueStore } from '../../schemas/stream.js';
import type { SlidingWindows, WindowAssigner } from '../../operators/windows/assigner.js';
import { hopping } from '../../operators/windows/hopping.js';
import { session } from '../../operators/windows/session.js';
import { sliding } from '../../operators/windows/sliding.js';
import { tumbling } from '../../operators/windows/tumbling.js';
import { WindowEngine, type AccumulatorOps } from '../../operators/windows/window-engine.js';

// ---- code around the behaviour: an in-memory store and a collecting accumulator ----

class MapStore implements KeyValueStore<unknown> {
  readonly map: Map<string, unknown>;
  constructor(entries: [string, unknown][] = []) {
    this.map = new Map(entries);
  }
  get = (key: string): unknown => this.map.get(key);
  put = (key: string, value: unknown): void => void this.map.set(key, value);
  delete = (key: string): void => void this.map.delete(key);
  keys = (): IterableIterator<string> => this.map.keys();
  get size(): number {
    return this.map.size;
  }
  /** What a changelog would carry: JSON only. */
  snapshot = (): string => JSON.stringify([...this.map]);
}

/** Accumulates the arrival ids of the records in a window (sorted, so merges are order-free). */
const collectIds: AccumulatorOps<number, number[]> = {
  init: () => [],
  add: (acc, id) => [...acc, id].sort((a, b) => a - b),
  merge: (a, b) => [...a, ...b].sort((x, y) => x - y),
};

interface Ev {
  key: string;
  t: number;
}
interface Params {
  assigner: WindowAssigner;
  grace: number;
  ooo: number;
}
interface Emitted {
  at: number;
  key: string;
  start: number;
  end: number;
  ids: number[];
}
interface Outcome {
  emitted: Emitted[];
  late: number[];
}

function runEngine(events: Ev[], p: Params, store = new MapStore(), from = 0): Outcome {
  const engine = new WindowEngine(store, {
    assigner: p.assigner,
    ops: collectIds,
    grace: p.grace,
    outOfOrderness: p.ooo,
  });
  const out: Outcome = { emitted: [], late: [] };
  events.forEach((e, i) => {
    if (i < from) return;
    const step = engine.process(e.key, e.t, i);
    if (step.late) out.late.push(i);
    for (const w of step.closed)
      out.emitted.push({ at: i, key: w.key, start: w.start, end: w.end, ids: w.acc });
  });
  // As the window stage does at a barrier: the store then holds all the engine knows.
  engine.flush();
  return out;
}

// ---- brute-force reference: windows computed naively from the whole event list ----

function reference(events: Ev[], p: Params): Outcome {
  const watermarks: number[] = [];
  let max = -Infinity;
  for (const e of events) watermarks.push((max = Math.max(max, e.t)) - p.ooo);
  /** First arrival index at which the watermark reaches `closeAt`, or -1. */
  const closeIndex = (closeAt: number): number => watermarks.findIndex((w) => w >= closeAt);
  const late: number[] = [];
  const emitted: Emitted[] = [];
  const { assigner: a, grace } = p;

  if (a.kind === 'tumbling' || a.kind === 'hopping') {
    const windowsOf = (t: number): number[] => {
      const starts: number[] = [];
      for (let k = Math.floor((t - a.size) / a.advance); k <= Math.floor(t / a.advance); k++) {
        const s = k * a.advance;
        if (s <= t && t < s + a.size) starts.push(s);
      }
      return starts;
    };
    const contents = new Map<string, number[]>();
    events.forEach((e, i) => {
      const open = windowsOf(e.t).filter((s) => s + a.size + grace > watermarks[i]!);
      if (open.length === 0) late.push(i);
      for (const s of open) {
        const id = JSON.stringify([e.key, s]);
        contents.set(id, [...(contents.get(id) ?? []), i]);
      }
    });
    for (const [id, ids] of contents) {
      const [key, start] = JSON.parse(id) as [string, number];
      const at = closeIndex(start + a.size + grace);
      if (at >= 0) emitted.push({ at, key, start, end: start + a.size, ids });
    }
  } else {
    const admitted: number[] = [];
    events.forEach((e, i) => (e.t + 1 + grace <= watermarks[i]! ? late : admitted).push(i));
    const keys = [...new Set(admitted.map((i) => events[i]!.key))];
    for (const key of keys) {
      const mine = admitted.filter((i) => events[i]!.key === key);
      if (a.kind === 'session') {
        const sorted = [...mine].sort((x, y) => events[x]!.t - events[y]!.t);
        const clusters: number[][] = [];
        for (const i of sorted) {
          const current = clusters.at(-1);
          if (current && events[i]!.t - events[current.at(-1)!]!.t <= a.gap) current.push(i);
          else clusters.push([i]);
        }
        for (const cluster of clusters) {
          const times = cluster.map((i) => events[i]!.t);
          const start = Math.min(...times);
          const end = Math.max(...times) + 1;
          const at = closeIndex(end + a.gap + grace);
          if (at >= 0) emitted.push({ at, key, start, end, ids: cluster.sort((x, y) => x - y) });
        }
      } else {
        const d = (a as SlidingWindows).timeDifference;
        const starts = new Set(mine.flatMap((i) => [events[i]!.t - d, events[i]!.t + 1]));
        for (const start of starts) {
          const at = closeIndex(start + d + 1 + grace);
          if (at < 0) continue;
          const before = mine.filter((i) => i <= at);
          const has = (lo: number, hi: number): boolean =>
            before.some((i) => events[i]!.t >= lo && events[i]!.t <= hi);
          const exists = has(start + d, start + d) || (has(start - 1, start - 1) && has(start, start + d));
          const ids = before.filter((i) => events[i]!.t >= start && events[i]!.t <= start + d);
          if (exists) emitted.push({ at, key, start, end: start + d + 1, ids });
        }
      }
    }
  }
  const cmp = (x: Emitted, y: Emitted): number =>
    x.at - y.at || x.end - y.end || x.start - y.start || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
  return { emitted: emitted.sort(cmp), late };
}

// ---- generators ----

const eventsArb = fc.array(
  fc.record({ key: fc.constantFrom('a', 'b', 'c'), t: fc.integer({ min: 0, max: 150 }) }),
  { maxLength: 60 },
);
const timing = { grace: fc.integer({ min: 0, max: 15 }), ooo: fc.integer({ min: 0, max: 15 }) };
const assigners: Record<string, fc.Arbitrary<WindowAssigner>> = {
  tumbling: fc.integer({ min: 1, max: 30 }).map((size) => tumbling(size)),
  hopping: fc
    .integer({ min: 1, max: 30 })
    .chain((size) => fc.integer({ min: 1, max: size }).map((advance) => hopping(size, advance))),
  sliding: fc.integer({ min: 0, max: 20 }).map((d) => sliding(d)),
  session: fc.integer({ min: 1, max: 20 }).map((gap) => session(gap)),
};
const paramsOf = (assigner: fc.Arbitrary<WindowAssigner>): fc.Arbitrary<Params> =>
  fc.record({ assigner, ...timing });

const RUNS = 150;

for (const [name, assigner] of Object.entries(assigners)) {
  describe(`WindowEngine ${name} (property, vs brute-force reference)`, () => {
    it('emits exactly the reference windows, at the same arrival, and the same late records', () => {
      fc.assert(
        fc.property(eventsArb, paramsOf(assigner), (events, p) => {
          assert.deepEqual(runEngine(events, p), reference(events, p));
        }),
        { numRuns: RUNS },
      );
    });

    it('never drops a record silently: after a far-future record, every non-late record was emitted', () => {
      fc.assert(
        fc.property(eventsArb, paramsOf(assigner), (events, p) => {
          const flushed = [...events, { key: 'flush', t: 10_000 }];
          const out = runEngine(flushed, p);
          const seen = new Set([...out.late, ...out.emitted.flatMap((w) => w.ids)]);
          events.forEach((_, i) => assert.ok(seen.has(i), `record ${i} neither late nor in any window`));
        }),
        { numRuns: RUNS },
      );
    });

    it('restoring a JSON snapshot of the store mid-stream gives exactly the uninterrupted outputs', () => {
      fc.assert(
        fc.property(eventsArb, paramsOf(assigner), fc.nat(), (events, p, cutSeed) => {
          const cut = events.length === 0 ? 0 : cutSeed % (events.length + 1);
          const first = new MapStore();
          const before = runEngine(events.slice(0, cut), p, first);
          const restored = new MapStore(JSON.parse(first.snapshot()) as [string, unknown][]);
          const after = runEngine(events, p, restored, cut);
          const whole = runEngine(events, p);
          assert.deepEqual(
            { emitted: [...before.emitted, ...after.emitted], late: [...before.late, ...after.late] },
            whole,
          );
        }),
        { numRuns: RUNS },
      );
    });
  });
}

// ---- worked examples (expected values derived by hand from the definitions) ----

const ev = (...pairs: [string, number][]): Ev[] => pairs.map(([key, t]) => ({ key, t }));
const windowsOf = (out: Outcome): [string, number, number, number[]][] =>
  out.emitted.map((w) => [w.key, w.start, w.end, w.ids]);

describe('WindowEngine examples', () => {
  it('tumbling: out-of-order inside grace counts, beyond grace is late, an event at end belongs to the next window', () => {
    const p = { assigner: tumbling('10ms'), grace: 5, ooo: 0 };
    //                 0        1        2         3        4         5        6
    const events = ev(['a', 1], ['a', 9], ['a', 12], ['a', 3], ['a', 10], ['a', 15], ['a', 5]);
    const out = runEngine(events, p);
    // [0,10) closes when the watermark reaches 15 (event 5); event 3 (t=3) came inside grace.
    assert.deepEqual(windowsOf(out), [['a', 0, 10, [0, 1, 3]]]);
    assert.equal(out.emitted[0]!.at, 5);
    assert.deepEqual(out.late, [6]);
  });

  it('tumbling: keys are windowed independently and empty input emits nothing', () => {
    const p = { assigner: tumbling(10), grace: 0, ooo: 0 };
    assert.deepEqual(runEngine([], p), { emitted: [], late: [] });
    const out = runEngine(ev(['b', 2], ['a', 3], ['b', 4], ['a', 25]), p);
    assert.deepEqual(windowsOf(out), [
      ['a', 0, 10, [1]],
      ['b', 0, 10, [0, 2]],
    ]);
  });

  it('outOfOrderness holds the watermark back', () => {
    const p = { assigner: tumbling(10), grace: 0, ooo: 8 };
    const out = runEngine(ev(['a', 5], ['a', 12], ['a', 7], ['a', 18]), p);
    // watermark after t=12 is 4, so t=7 still joins [0,10); t=18 moves it to 10 and closes [0,10).
    assert.deepEqual(windowsOf(out), [['a', 0, 10, [0, 2]]]);
    assert.equal(out.emitted[0]!.at, 3);
  });

  it('hopping: a record joins every overlapping window; late only when all of them closed', () => {
    const p = { assigner: hopping(10, 5), grace: 0, ooo: 0 };
    const out = runEngine(ev(['a', 7], ['a', 11], ['a', 6], ['a', 16], ['a', 4]), p);
    // t=11 closes [0,10) = {7}; t=6 joins only [5,15) ([0,10) is closed); t=16 closes [5,15);
    // t=4 (windows [-5,5) and [0,5+5)) are all closed -> late.
    assert.deepEqual(windowsOf(out), [
      ['a', 0, 10, [0]],
      ['a', 5, 15, [0, 1, 2]],
    ]);
    assert.deepEqual(out.late, [4]);
  });

  it('sliding (Kafka semantics): left windows per record, right windows where records leave', () => {
    const p = { assigner: sliding(5), grace: 0, ooo: 0 };
    const out = runEngine(ev(['a', 10], ['a', 14], ['a', 20], ['a', 100]), p);
    // Kafka inclusive windows [5,10] {10}, [9,14] {10,14}, [11,16] {14}, [15,20] {20}.
    assert.deepEqual(windowsOf(out), [
      ['a', 5, 11, [0]],
      ['a', 9, 15, [0, 1]],
      ['a', 11, 17, [1]],
      ['a', 15, 21, [2]],
    ]);
  });

  it('sliding: a record outlives its own windows while it is the left neighbour of a right window', () => {
    const p = { assigner: sliding(5), grace: 0, ooo: 0 };
    const out = runEngine(ev(['a', 9], ['a', 10], ['a', 12], ['b', 16], ['b', 17]), p);
    // Watermark 16 closes [10,16); [11,17) exists only because a@10 sits just before it (right window).
    assert.deepEqual(
      out.emitted.map((w) => [w.at, ...windowsOf({ emitted: [w], late: [] })[0]!]),
      [
        [1, 'a', 4, 10, [0]],
        [2, 'a', 5, 11, [0, 1]],
        [3, 'a', 7, 13, [0, 1, 2]],
        [3, 'a', 10, 16, [1, 2]],
        [4, 'a', 11, 17, [2]],
        [4, 'b', 11, 17, [3]],
      ],
    );
  });

  it('session: a record bridging two sessions merges them; a session closes after gap + grace', () => {
    const p = { assigner: session(5), grace: 2, ooo: 10 };
    const out = runEngine(ev(['a', 1], ['a', 10], ['a', 6], ['a', 27], ['a', 28], ['a', 5]), p);
    // {1} and {10} are 9 apart; 6 is within 5 of both -> [1, 11), closing at watermark 11 + 5 + 2 = 18,
    // reached by t=28 (27 only gets to 17). t=27 starts its own session (17 after 10). t=5 is late.
    assert.deepEqual(windowsOf(out), [['a', 1, 11, [0, 1, 2]]]);
    assert.equal(out.emitted[0]!.at, 4);
    assert.deepEqual(out.late, [5]);
  });

  it('flushes only the entries of the record key, the closed windows, pruned records and the meta entry', () => {
    fc.assert(
      fc.property(eventsArb, fc.constantFrom(...Object.values(assigners)).chain(paramsOf), (events, p) => {
        const store = new MapStore();
        const written: { key: string; shrank: boolean }[] = [];
        const put = store.put;
        store.put = (key, value) => {
          const before = store.get(key);
          // Sliding windows prune a key's expired records when its candidates close: a shrinking write.
          const shrank = Array.isArray(before) && Array.isArray(value) && value.length < before.length;
          written.push({ key, shrank });
          put(key, value);
        };
        const engine = new WindowEngine(store, {
          assigner: p.assigner,
          ops: collectIds,
          grace: p.grace,
          outOfOrderness: p.ooo,
        });
        events.forEach((e, i) => {
          written.length = 0;
          const step = engine.process(e.key, e.t, i);
          engine.flush();
          const closedKeys = step.closed.map((w) => w.key);
          for (const { key, shrank } of written) {
            if (key === '#meta') continue;
            const owner = (JSON.parse(key) as [string])[0];
            const allowed =
              owner === e.key || closedKeys.includes(owner) || (p.assigner.kind === 'sliding' && shrank);
            assert.ok(allowed, `step ${i} rewrote ${key}`);
          }
        });
      }),
      { numRuns: 60 },
    );
  });

  it('fixed windows: the store is written only at a flush, then holds exactly the open windows', () => {
    const fixed = fc.constantFrom(assigners.tumbling!, assigners.hopping!).chain(paramsOf);
    fc.assert(
      fc.property(eventsArb, fixed, fc.array(fc.boolean(), { maxLength: 60 }), (events, p, flushes) => {
        const store = new MapStore();
        let writes = 0;
        const put = store.put;
        const del = store.delete;
        store.put = (key, value) => {
          writes += 1;
          put(key, value);
        };
        store.delete = (key) => {
          writes += 1;
          del(key);
        };
        const engine = new WindowEngine(store, {
          assigner: p.assigner,
          ops: collectIds,
          grace: p.grace,
          outOfOrderness: p.ooo,
        });
        const open = new Map<string, number[]>();
        events.forEach((e, i) => {
          const step = engine.process(e.key, e.t, i);
          assert.equal(writes, 0, `step ${i} wrote to the store before a flush`);
          for (const w of step.closed) open.delete(JSON.stringify([w.key, w.start]));
          // Reference for what is open: every window this record joined, unless it closed just now.
          if (!step.late) {
            const a = p.assigner as { size: number; advance: number };
            for (let s = Math.floor(e.t / a.advance) * a.advance; s > e.t - a.size; s -= a.advance) {
              const id = JSON.stringify([e.key, s]);
              if (s + a.size + p.grace > engine.watermark) open.set(id, [...(open.get(id) ?? []), i]);
            }
          }
          if (flushes[i]) {
            engine.flush();
            writes = 0;
            const stored = [...store.map.keys()].filter((k) => k !== '#meta').sort();
            assert.deepEqual(stored, [...open.keys()].sort(), `after the flush at step ${i}`);
            for (const [id, ids] of open) assert.deepEqual(store.map.get(id), ids, id);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('fixed windows opened and closed between two flushes never reach the store', () => {
    const store = new MapStore();
    const touched: string[] = [];
    const put = store.put;
    const del = store.delete;
    store.put = (key, value) => (touched.push(`put ${key}`), put(key, value));
    store.delete = (key) => (touched.push(`delete ${key}`), del(key));
    const engine = new WindowEngine(store, {
      assigner: tumbling(10),
      ops: collectIds,
      grace: 0,
      outOfOrderness: 0,
    });
    engine.process('a', 1, 0);
    engine.flush(); // [0,10) of a is open at this checkpoint: stored
    engine.process('b', 11, 1); // closes a's [0,10); opens b's [10,20)
    engine.process('c', 25, 2); // closes b's [10,20) before any flush saw it
    engine.flush();
    assert.deepEqual(touched, ['put ["a",0]', 'put #meta', 'delete ["a",0]', 'put ["c",20]', 'put #meta']);
  });

  it('refuses state written by a different assigner, naming the fix', () => {
    const store = new MapStore();
    runEngine(ev(['a', 1]), { assigner: tumbling(10), grace: 0, ooo: 0 }, store);
    assert.throws(
      () => new WindowEngine(store, { assigner: tumbling(20), ops: collectIds, grace: 0, outOfOrderness: 0 }),
      /tumbling\(10\).*tumbling\(20\).*new `store` name/,
    );
  });

  it('rejects bad timing options and event times with clear errors', () => {
    const store = new MapStore();
    assert.throws(
      () =>
        new WindowEngine(store, { assigner: tumbling(10), ops: collectIds, grace: -1, outOfOrderness: 0 }),
      /grace must be whole non-negative/,
    );
    const engine = new WindowEngine(store, {
      assigner: tumbling(10),
      ops: collectIds,
      grace: 0,
      outOfOrderness: 0,
    });
    assert.throws(() => engine.process('a', Number.NaN, 0), /event time must be whole epoch milliseconds/);
  });
});
