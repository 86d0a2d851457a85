/**
 * The windowed topology the runtime's integration tests run (JSON decode -> key -> 10 s tumbling count
 * and sum -> Kafka sink), and the brute-force reference its results must equal exactly.
 */
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { aggregate, count, sum } from '../../operators/aggregate/index.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import type { Duration } from '../../operators/windows/duration.js';
import { tumbling, window } from '../../operators/windows/index.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { jsonDecoder } from './json-decoder.js';
import { readAll } from './kafka.js';

export interface KeyedEvent {
  id: number;
  key: string;
  ts: number;
  amount: number;
}

export interface WindowTotals {
  n: number;
  total: number;
}

export const WINDOW_MS = 10_000;

/** Reads `${name}.in`, writes `${name}.out`. */
export function countSumTopology(name: string, options: { outOfOrderness?: Duration } = {}) {
  return topology(name)
    .from(kafkaSource(`${name}.in`))
    .pipe(
      decode(jsonDecoder<KeyedEvent>(), { eventTime: (e) => e.ts, maxAgeMs: 10 * 365 * 86_400_000 }),
      keyBy((e) => e.key),
      window(tumbling('10s'), {
        outOfOrderness: options.outOfOrderness ?? 0,
        aggregate: aggregate({ n: count(), total: sum((e: KeyedEvent) => e.amount) }),
      }),
    )
    .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue }));
}

/** Every window the events fall in, keyed `key@start`. */
export function referenceWindows(events: readonly KeyedEvent[]): Map<string, WindowTotals> {
  const expected = new Map<string, WindowTotals>();
  for (const e of events) {
    const k = `${e.key}@${Math.floor(e.ts / WINDOW_MS) * WINDOW_MS}`;
    const totals = expected.get(k) ?? { n: 0, total: 0 };
    expected.set(k, { n: totals.n + 1, total: totals.total + e.amount });
  }
  return expected;
}

/**
 * The windows in `topic`, keyed `key@start`, compared with the reference: the same set, the same totals.
 * A window emitted twice (a replay) must repeat its value exactly.
 */
export async function assertWindowsEqualReference(
  kafka: Kafka,
  topic: string,
  events: readonly KeyedEvent[],
): Promise<void> {
  const actual = new Map<string, WindowTotals>();
  for (const m of await readAll(kafka, topic)) {
    const r = JSON.parse(String(m.value)) as { key: string; start: number; value: WindowTotals };
    const k = `${r.key}@${r.start}`;
    const prev = actual.get(k);
    if (prev) assert.deepEqual(r.value, prev, `window ${k} was emitted twice with different values`);
    actual.set(k, r.value);
  }
  const expected = referenceWindows(events);
  assert.equal(actual.size, expected.size, 'same set of windows');
  for (const [k, v] of expected) assert.deepEqual(actual.get(k), v, `window ${k}`);
}
