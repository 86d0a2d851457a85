/**
 * State and position are restored together from the changelog. Without KIP-447 fencing in kafkajs, the
 * group's committed offset can disagree with the restored state (an old owner's commit landing between the
 * new owner's offset fetch and its restore). Here the disagreement is made on purpose by moving the group's
 * offset while no worker runs, backwards (state ahead: resuming there would count events twice or report
 * them late) and forwards (state behind: resuming there would lose events). Either way the final windows
 * must equal the reference exactly.
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
const WINDOW_MS = 10_000;
const PER_PHASE = 3000;

function windowTopology(name: string) {
  return topology(name)
    .from(kafkaSource(`${name}.in`))
    .pipe(
      decode(jsonDecoder<Event>(), { eventTime: (e) => e.ts, maxAgeMs: 10 * 365 * 86_400_000 }),
      keyBy((e) => e.key),
      window(tumbling('10s'), {
        outOfOrderness: '1s',
        aggregate: aggregate({ n: count(), total: sum((e: Event) => e.amount) }),
      }),
    )
    .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue }));
}

async function runUntilCommitted(name: string, instance: string): Promise<void> {
  const worker = new TopologyWorker(windowTopology(name), {
    instanceId: instance,
    kafka,
    endpoints,
    barrierEveryRecords: 500,
    barrierIntervalMs: 200,
  });
  await worker.start();
  try {
    await waitForCommittedEnd(kafka, name, `${name}.in`, 120_000);
  } finally {
    await worker.stop();
  }
}

async function moveGroupOffset(name: string, offset: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId: name, topic: `${name}.in`, partitions: [{ partition: 0, offset }] });
  } finally {
    await admin.disconnect();
  }
}

const toMessage = (e: Event): Message => ({ partition: 0, key: e.key, value: JSON.stringify(e) });

async function scenario(label: string, groupOffsetAfterPhase1: (phase1End: number) => string) {
  const name = uniqueName(`position-${label}`);
  created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
  await createTopic(kafka, `${name}.in`, 1);
  const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 3_600_000;
  const events: Event[] = Array.from({ length: 2 * PER_PHASE }, (_, id) => ({
    id,
    key: `card-${id % 17}`,
    ts: t0 + id * 50,
    amount: 1 + (id % 13),
  }));
  await produce(kafka, `${name}.in`, events.slice(0, PER_PHASE).map(toMessage));
  await runUntilCommitted(name, 'a');

  await moveGroupOffset(name, groupOffsetAfterPhase1(PER_PHASE));
  const flush: Event = { id: -1, key: 'flush', ts: t0 + 4 * PER_PHASE * 50, amount: 0 };
  await produce(kafka, `${name}.in`, [...events.slice(PER_PHASE).map(toMessage), toMessage(flush)]);
  await runUntilCommitted(name, 'b');

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
  assert.equal((await readAll(kafka, `${name}.late`)).length, 0, 'no event was reported late');
}

test(
  'group offset behind the restored state: resumes at the state, nothing counted twice',
  { timeout: 300_000 },
  () => scenario('behind', () => '0'),
);

test(
  'group offset ahead of the restored state: resumes at the state, nothing lost',
  { timeout: 300_000 },
  async () => {
    // Phase 2's first records are skipped by the group offset; the state's position must bring them back.
    await scenario('ahead', (end) => String(end + 500));
  },
);

after(() => deleteTopics(kafka, created));
