/**
 * Poison aimed at Avro collections: a map whose block count declares two billion entries on a few
 * bytes. Stock avsc allocated for every declared entry until the worker died of "heap out of memory"
 * (no try/catch can stop that), so the record crashed each owner of its partition in turn. Patched
 * (patches/README.md), it is a truncated body like any other: dead-lettered with its reason.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import avro from 'avsc';
import type { Message } from 'kafkajs';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import { FeatureRow, type FeatureRowRecord } from '../../schemas/index.js';
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
} from '../support/kafka.js';
import { decodeKeyedTopology, runToCommittedEnd } from '../support/run-to-end.js';

const kafka = testKafka();
const name = uniqueName('poison-maps');
const source = `${name}.in`;
const output = `${name}.out`;

const row = (i: number, now: number, features: Record<string, number>): FeatureRowRecord => ({
  view: 'card-features',
  viewVersion: 1,
  entity: `card-${i}`,
  windowStart: now - 60_000,
  windowEnd: now,
  eventTime: now,
  features,
});

test(
  'a map declaring two billion entries is dead-lettered as truncated; the worker and its partition go on',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, source, 1);
    const serde = createAvroSerde(FeatureRow, createRegistryClient(endpoints.schemaRegistryUrl), {
      topic: source,
    });
    const now = Date.now();
    const messages: Message[] = [];
    for (let i = 0; i < 20; i += 1) {
      messages.push({ key: `card-${i}`, value: await serde.serialize(row(i, now, { n: i })) });
    }
    // A row with no features ends in the empty map's terminating 0: swap it for a huge block count.
    const empty = await serde.serialize(row(99, now, {}));
    const hugeCount = avro.Type.forSchema('long').toBuffer(2_000_000_000);
    const bomb = Buffer.concat([empty.subarray(0, empty.length - 1), hugeCount, Buffer.from([2, 65])]);
    messages.splice(10, 0, { key: 'card-bomb', value: bomb });
    // A feature named __proto__ is an entry like any other.
    messages.push({
      key: 'card-100',
      value: await serde.serialize(row(100, now, JSON.parse('{"__proto__": 1.5}'))),
    });
    await produce(kafka, source, messages, 50);

    const t = decodeKeyedTopology(
      name,
      serde,
      (e) => e.eventTime,
      (e) => e.entity,
    );
    const fatal = await runToCommittedEnd(kafka, t, 'm1');
    assert.equal(fatal, undefined, 'no worker crash');
    const outputs = await readAll(kafka, output);
    assert.deepEqual(
      outputs.map((m) => String(m.key)),
      messages.filter((m) => m.value !== bomb).map((m) => String(m.key)),
    );
    const proto = JSON.parse(String(outputs.at(-1)?.value)) as { features: unknown };
    assert.equal(JSON.stringify(proto.features), '{"__proto__":1.5}');
    const dlq = await readAll(kafka, `${name}.dlq`);
    assert.deepEqual(
      dlq.map((m) => [
        headerText(m.headers, 'sluice.error.code'),
        headerText(m.headers, 'sluice.source.offset'),
      ]),
      [['AVRO_DECODE_ERROR', '10']],
    );
    assert.match(headerText(dlq[0]?.headers, 'sluice.error.message') ?? '', /truncated/);
  },
);

after(async () => {
  await deleteTopics(kafka, [source, output, ...topologyTopics(name)]);
});
