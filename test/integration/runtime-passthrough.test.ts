/**
 * The runtime against the real broker: every record reaches the sink, poison goes to the dead-letter topic
 * with its reason, and the group's committed offsets reach the end of every partition.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { jsonDecoder } from '../support/json-decoder.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  headerText,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';

interface Event {
  id: number;
  user: string;
  ts: number;
}

const kafka = testKafka();
const name = uniqueName('rt-pass');
const source = `${name}.in`;
const out = `${name}.out`;

before(async () => {
  await createTopic(kafka, source, 3);
});

test('all records flow to the sink, poison is dead-lettered, offsets reach the end', async () => {
  const now = Date.now();
  const good = Array.from({ length: 3000 }, (_, i) => ({
    key: `u${i % 17}`,
    value: JSON.stringify({ id: i, user: `u${i % 17}`, ts: now - 1000 + (i % 50) }),
  }));
  const poison = [
    { key: 'p1', value: 'not json' },
    { key: 'p2', value: JSON.stringify({ id: -1, user: '', ts: now }) }, // empty key -> NULL_KEY
    { key: 'p3', value: JSON.stringify({ id: -2, user: 'x', ts: now + 10 * 3_600_000 }) }, // future
  ];
  await produce(kafka, source, [...good.slice(0, 1500), ...poison, ...good.slice(1500)]);

  const t = topology(name)
    .from(kafkaSource(source))
    .pipe(
      decode(jsonDecoder<Event>(), { eventTime: (e) => e.ts }),
      keyBy((e) => e.user),
    )
    .to(kafkaSink({ topic: out, serialize: jsonValue }));
  const worker = new TopologyWorker(t, { instanceId: 'w1', kafka, endpoints, barrierIntervalMs: 200 });
  await worker.start();
  try {
    await waitForCommittedEnd(kafka, name, source, 60_000);
  } finally {
    await worker.stop();
  }

  const outputs = await readAll(kafka, out);
  const ids = new Set(outputs.map((m) => (JSON.parse(String(m.value)) as Event).id));
  assert.equal(ids.size, good.length, 'every good record reached the sink');
  const dlq = await readAll(kafka, `${name}.dlq`);
  const codes = dlq.map((m) => headerText(m.headers, 'sluice.error.code')).sort();
  assert.deepEqual(codes, ['EVENT_TIME_FUTURE', 'JSON_DECODE_ERROR', 'NULL_KEY']);
  for (const m of dlq) {
    assert.equal(headerText(m.headers, 'sluice.source.topic'), source);
    assert.match(headerText(m.headers, 'sluice.source.offset') ?? '', /^\d+$/);
  }
});

after(async () => {
  await deleteTopics(kafka, [source, out, ...topologyTopics(name)]);
});
