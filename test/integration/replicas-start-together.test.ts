/**
 * Two replicas of a topology deployed at once (a Deployment scaled to 2) start at the same moment, race
 * to create the topology's topics, and split the partitions between them. Both must start, and the
 * windows they emit together must equal the reference exactly: nothing lost, nothing counted twice.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Message } from 'kafkajs';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { aggregate, count, sum } from '../../operators/aggregate/index.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { tumbling, window } from '../../operators/windows/index.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { jsonDecoder } from '../support/json-decoder.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';

interface Event {
  id: number;
  key: string;
  ts: number;
  amount: number;
}

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

const PARTITIONS = 6;
const WINDOW_MS = 10_000;

function windowTopology(name: string) {
  return topology(name)
    .from(kafkaSource(`${name}.in`))
    .pipe(
      decode(jsonDecoder<Event>(), { eventTime: (e) => e.ts, maxAgeMs: 10 * 365 * 86_400_000 }),
      keyBy((e) => e.key),
      window(tumbling('10s'), { aggregate: aggregate({ n: count(), total: sum((e: Event) => e.amount) }) }),
    )
    .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue }));
}

test(
  'two replicas started at the same moment both run, and together emit exactly the reference',
  { timeout: 300_000 },
  async () => {
    const name = uniqueName('replicas');
    created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
    await createTopic(kafka, `${name}.in`, PARTITIONS);
    const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 3_600_000;
    const events: Event[] = Array.from({ length: 6000 }, (_, id) => ({
      id,
      key: `card-${id % 40}`,
      ts: t0 + id * 20,
      amount: 1 + (id % 7),
    }));
    // Each partition's watermark passes its last window only with a later event on that partition.
    const flushes: Message[] = Array.from({ length: PARTITIONS }, (_, partition) => ({
      partition,
      key: 'flush',
      value: JSON.stringify({ id: -1, key: 'flush', ts: t0 + 3_000_000, amount: 0 }),
    }));
    await produce(kafka, `${name}.in`, [
      ...events.map((e) => ({ key: e.key, value: JSON.stringify(e) })),
      ...flushes,
    ]);

    const replicas = ['a', 'b'].map(
      (instanceId) =>
        new TopologyWorker(windowTopology(name), {
          instanceId,
          kafka,
          endpoints,
          barrierEveryRecords: 500,
          barrierIntervalMs: 200,
        }),
    );
    try {
      const started = await Promise.allSettled(replicas.map((r) => r.start()));
      assert.deepEqual(
        started
          .filter((s) => s.status === 'rejected')
          .map((s) => String((s as PromiseRejectedResult).reason)),
        [],
        'both replicas start',
      );
      await waitForCommittedEnd(kafka, name, `${name}.in`, 120_000);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }

    const expected = new Map<string, { n: number; total: number }>();
    for (const e of events) {
      const k = `${e.key}@${Math.floor(e.ts / WINDOW_MS) * WINDOW_MS}`;
      const agg = expected.get(k) ?? { n: 0, total: 0 };
      expected.set(k, { n: agg.n + 1, total: agg.total + e.amount });
    }
    const actual = new Map<string, { n: number; total: number }>();
    for (const m of await readAll(kafka, `${name}.out`)) {
      const r = JSON.parse(String(m.value)) as {
        key: string;
        start: number;
        value: { n: number; total: number };
      };
      const k = `${r.key}@${r.start}`;
      const prev = actual.get(k);
      if (prev) assert.deepEqual(r.value, prev, `window ${k} was emitted twice with different values`);
      actual.set(k, r.value);
    }
    assert.equal(actual.size, expected.size, 'same set of windows');
    for (const [k, v] of expected) assert.deepEqual(actual.get(k), v, `window ${k}`);
  },
);
