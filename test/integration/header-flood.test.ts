/**
 * A record with tens of thousands of headers is a valid Kafka record (150 KB here), so it is processed
 * like any other, and it must not hold up its partition. Stock kafkajs decoded headers in O(n^2): such a
 * record held the worker's event loop for over a minute, past the group's session timeout, and the next
 * owner fetched and choked on it again (see patches/README.md).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Message } from 'kafkajs';
import { createAvroSerde, createRegistryClient } from '../../connectors/schema-registry/index.js';
import { TxnEvent } from '../../schemas/index.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
} from '../support/kafka.js';
import { decodeKeyedTopology, runToCommittedEnd } from '../support/run-to-end.js';
import { txnEvent } from '../support/txn-event.js';

const kafka = testKafka();
const name = uniqueName('header-flood');
const source = `${name}.in`;
const output = `${name}.out`;
const HEADERS = 20_000;

test(
  'records of 20,000 headers, distinct or one repeated, flow through without stalling their partition',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, source, 1);
    const serde = createAvroSerde(TxnEvent, createRegistryClient(endpoints.schemaRegistryUrl), {
      topic: source,
    });
    const now = Date.now();
    const messages: Message[] = [];
    for (let i = 0; i < 30; i += 1) {
      const message: Message = { key: `card-${i}`, value: await serde.serialize(txnEvent(i, now)) };
      if (i === 10) {
        message.headers = Object.fromEntries(Array.from({ length: HEADERS }, (_, h) => [`h${h}`, String(h)]));
      }
      if (i === 20) message.headers = { trace: Array.from({ length: HEADERS }, (_, h) => String(h)) };
      messages.push(message);
    }
    await produce(kafka, source, messages, 30);

    const t = decodeKeyedTopology(
      name,
      serde,
      (e) => e.ts,
      (e) => e.cardId,
    );
    const fatal = await runToCommittedEnd(kafka, t, 'h1');
    assert.equal(fatal, undefined, 'no worker crash');
    const outputs = await readAll(kafka, output);
    assert.deepEqual(
      outputs.map((m) => String(m.key)),
      messages.map((m) => String(m.key)),
      'every record, the flooded ones included, reached the output in order',
    );
  },
);

after(async () => {
  await deleteTopics(kafka, [source, output, ...topologyTopics(name)]);
});
