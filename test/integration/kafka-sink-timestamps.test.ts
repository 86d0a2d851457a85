/**
 * The Kafka timestamp a sink gives its records: their event time by default (as Kafka Streams does), or
 * the write time. A backfill of month-old events stamped with event time sits in segments that
 * time-based retention may delete as soon as they roll; write time keeps them.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { jsonValue, kafkaSink } from '../../connectors/kafka/kafka-sink.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import {
  createTopic,
  deleteTopics,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
} from '../support/kafka.js';
import { jsonDecoder } from '../support/json-decoder.js';
import { runToCommittedEnd } from '../support/run-to-end.js';

const kafka = testKafka();
const name = uniqueName('sink-timestamps');

interface Event {
  id: number;
  card: string;
  ts: number;
}

test('a sink stamps event time by default, or the write time when asked', { timeout: 120_000 }, async () => {
  await createTopic(kafka, `${name}.in`, 2);
  const monthAgo = Date.now() - 30 * 86_400_000;
  const events: Event[] = Array.from({ length: 200 }, (_, i) => ({
    id: i,
    card: `card-${i % 9}`,
    ts: monthAgo + i,
  }));
  await produce(
    kafka,
    `${name}.in`,
    events.map((e) => ({ key: e.card, value: JSON.stringify(e) })),
  );
  const started = Date.now();
  const t = topology(name)
    .from(kafkaSource(`${name}.in`))
    .pipe(
      decode(jsonDecoder<Event>(), { eventTime: (e) => e.ts, maxAgeMs: 365 * 86_400_000 }),
      keyBy((e) => e.card),
    )
    .to(
      kafkaSink({ topic: `${name}.event-time`, serialize: jsonValue }),
      kafkaSink({ topic: `${name}.write-time`, serialize: jsonValue, timestamp: 'write-time' }),
    );
  assert.equal(await runToCommittedEnd(kafka, t, 't1'), undefined, 'no worker crash');

  const byEventTime = await readAll(kafka, `${name}.event-time`);
  assert.equal(byEventTime.length, events.length);
  for (const m of byEventTime) {
    assert.equal(
      Number(m.timestamp),
      (JSON.parse(String(m.value)) as Event).ts,
      'stamped with its event time',
    );
  }
  const byWriteTime = await readAll(kafka, `${name}.write-time`);
  assert.equal(byWriteTime.length, events.length);
  for (const m of byWriteTime) {
    assert.ok(Number(m.timestamp) >= started, `stamped when written: ${m.timestamp} < ${started}`);
  }
  assert.throws(
    () => kafkaSink({ topic: 'x', serialize: jsonValue, timestamp: 'now' as 'write-time' }),
    /timestamp 'now' is not one of event-time, write-time/,
  );
});

after(async () => {
  await deleteTopics(kafka, [
    `${name}.in`,
    `${name}.event-time`,
    `${name}.write-time`,
    ...topologyTopics(name),
  ]);
});
