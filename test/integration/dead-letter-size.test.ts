/**
 * A poison record as large as the broker accepts: its dead letter (the record plus the reason headers)
 * would be larger, and the broker would refuse it. A refused dead letter fails the checkpoint and the
 * replay meets the same record again, so the worker must make the dead letter fit (dropping the original
 * headers, noted) instead of crashing on it forever.
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
  headerText,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
} from '../support/kafka.js';
import { decodeKeyedTopology, runToCommittedEnd } from '../support/run-to-end.js';
import { txnEvent } from '../support/txn-event.js';

const kafka = testKafka();
const name = uniqueName('dlq-size');
const source = `${name}.in`;
const output = `${name}.out`;

test(
  'a poison record at the broker size limit is dead-lettered (its headers dropped), not a crash loop',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, source, 1);
    const serde = createAvroSerde(TxnEvent, createRegistryClient(endpoints.schemaRegistryUrl), {
      topic: source,
    });
    const now = Date.now();
    const producer = kafka.producer();
    await producer.connect();
    const send = (m: Message) => producer.send({ topic: source, acks: -1, messages: [m] });
    const poisonValue = Buffer.from('not Avro: no magic byte');
    let poison: Message | undefined;
    try {
      await send({ key: 'card-1', value: await serde.serialize(txnEvent(1, now)) });
      // The largest padding the broker takes (message.max.bytes, 1,048,588 by default), within 256 bytes.
      for (let pad = 1_048_400; !poison && pad > 1_000_000; pad -= 256) {
        const candidate: Message = { key: 'card-2', value: poisonValue, headers: { pad: 'x'.repeat(pad) } };
        poison = await send(candidate).then(
          () => candidate,
          () => undefined,
        );
      }
      assert.ok(poison, 'the broker took a padded record');
      await send({ key: 'card-3', value: await serde.serialize(txnEvent(3, now)) });
    } finally {
      await producer.disconnect();
    }

    const t = decodeKeyedTopology(
      name,
      serde,
      (e) => e.ts,
      (e) => e.cardId,
    );
    const fatal = await runToCommittedEnd(kafka, t, 'd1');
    assert.equal(fatal, undefined, 'no worker crash');
    const outputs = await readAll(kafka, output);
    assert.deepEqual(
      outputs.map((m) => String(m.key)),
      ['card-1', 'card-3'],
    );
    const [letter, ...rest] = await readAll(kafka, `${name}.dlq`);
    assert.equal(rest.length, 0);
    assert.equal(headerText(letter?.headers, 'sluice.error.code'), 'BAD_MAGIC_BYTE');
    assert.equal(headerText(letter?.headers, 'sluice.source.offset'), '1');
    assert.match(headerText(letter?.headers, 'sluice.error.headers-dropped') ?? '', /^1 headers, \d+ bytes$/);
    assert.equal(letter?.headers?.pad, undefined);
    assert.deepEqual(letter?.value, poisonValue, 'the value itself is whole');
  },
);

after(async () => {
  await deleteTopics(kafka, [source, output, ...topologyTopics(name)]);
});
