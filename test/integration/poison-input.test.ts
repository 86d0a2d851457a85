/**
 * Poison input never crashes a worker, never blocks a partition and is never silently dropped: every kind
 * below ends in the dead-letter topic with its reason and origin, while good records around it flow on.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import avro from 'avsc';
import type { Message } from 'kafkajs';
import {
  createAvroSerde,
  createRegistryClient,
  encodeHeader,
} from '../../connectors/schema-registry/index.js';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { validate } from '../../operators/validate.js';
import { TxnEvent, TxnLabel, type TxnEventRecord } from '../../schemas/index.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
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
import { runToCommittedEnd } from '../support/run-to-end.js';

const kafka = testKafka();
const name = uniqueName('poison');
const source = `${name}.in`;
const output = `${name}.out`;

const goodEvent = (i: number, ts: number): TxnEventRecord => ({
  txnId: `t${i}`,
  cardId: `card-${i % 7}`,
  accountId: `acct-${i % 5}`,
  merchantId: `m${i % 11}`,
  merchantCategory: '5411',
  amount: 10 + i,
  currency: 'EUR',
  country: 'DE',
  channel: 'POS',
  ts,
});

test(
  'at least 12 kinds of poison end in the dead-letter topic with their reason; the partition keeps flowing',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, source, 1); // one partition: poison sits between good records of the same partition
    const registry = createRegistryClient(endpoints.schemaRegistryUrl);
    const serde = createAvroSerde(TxnEvent, registry, { topic: source });
    const labelSerde = createAvroSerde(TxnLabel, registry, { topic: `${name}.labels` });
    const now = Date.now();
    const good = await serde.serialize(goodEvent(0, now));
    const id = await serde.writerSchemaId();
    const body = good.subarray(5);
    const txnType = avro.Type.forSchema(TxnEvent.avsc as avro.Schema);

    const poison: { expect: string; message: Message }[] = [
      {
        expect: 'BAD_MAGIC_BYTE',
        message: { key: 'k', value: Buffer.concat([Buffer.from([1]), good.subarray(1)]) },
      },
      { expect: 'BAD_MAGIC_BYTE', message: { key: 'k', value: Buffer.from('{"txnId":"json-not-avro"}') } },
      {
        expect: 'UNKNOWN_SCHEMA_ID',
        message: { key: 'k', value: Buffer.concat([encodeHeader(987654), body]) },
      },
      { expect: 'TRUNCATED_HEADER', message: { key: 'k', value: Buffer.from([0, 0, 1]) } },
      { expect: 'AVRO_DECODE_ERROR', message: { key: 'k', value: good.subarray(0, good.length - 6) } },
      {
        expect: 'TRAILING_BYTES',
        message: { key: 'k', value: Buffer.concat([good, Buffer.from([1, 2, 3])]) },
      },
      // Bytes written with another record type's schema id: the writer schema cannot be read as a TxnEvent.
      {
        expect: 'INCOMPATIBLE_SCHEMA',
        message: {
          key: 'k',
          value: await labelSerde.serialize({ txnId: 'x', cardId: 'c', ts: now, isFraud: false }),
        },
      },
      { expect: 'EMPTY_PAYLOAD', message: { key: 'k', value: null } },
      { expect: 'EMPTY_PAYLOAD', message: { key: 'k', value: Buffer.alloc(0) } },
      {
        expect: 'RECORD_TOO_LARGE',
        message: {
          key: 'k',
          value: Buffer.concat([
            encodeHeader(id),
            txnType.toBuffer({ ...goodEvent(1, now), merchantId: 'x'.repeat(300_000) }),
          ]),
        },
      },
      { expect: 'NULL_KEY', message: { key: null, value: await serde.serialize(goodEvent(2, now)) } },
      {
        expect: 'EVENT_TIME_FUTURE',
        message: { key: 'k', value: await serde.serialize(goodEvent(3, now + 30 * 86_400_000)) },
      },
      {
        expect: 'EVENT_TIME_PAST',
        message: { key: 'k', value: await serde.serialize(goodEvent(4, 86_400_000)) },
      },
      // Wrong types inside a well-formed record: caught by validation, with the field and dimension named.
      {
        expect: 'VALIDATION_FAILED',
        message: { key: 'k', value: await serde.serialize({ ...goodEvent(5, now), amount: -50 }) },
      },
      {
        expect: 'VALIDATION_FAILED',
        message: { key: 'k', value: await serde.serialize({ ...goodEvent(6, now), currency: 'euro' }) },
      },
      {
        expect: 'VALIDATION_FAILED',
        message: { key: 'k', value: await serde.serialize({ ...goodEvent(7, now), cardId: '' }) },
      },
    ];
    const goods: Message[] = [];
    for (let i = 100; i < 400; i += 1)
      goods.push({ key: `card-${i % 7}`, value: await serde.serialize(goodEvent(i, now)) });
    // Interleave: 20 good records before each poison record and after the last.
    const messages: Message[] = [];
    poison.forEach((p, i) => messages.push(...goods.slice(i * 15, i * 15 + 15), p.message));
    messages.push(...goods.slice(poison.length * 15));
    await produce(kafka, source, messages, 50);

    const t = topology(name)
      .from(kafkaSource(source))
      .pipe(
        decode(serde, { eventTime: (e) => e.ts, maxBytes: 64 * 1024, requireKey: true }),
        validate<TxnEventRecord>({
          amount: { min: 0, max: 1_000_000 },
          currency: { pattern: /^[A-Z]{3}$/ },
          cardId: { pattern: /^.+$/ },
        }),
        keyBy((e) => e.cardId),
      )
      .to(kafkaSink({ topic: output, serialize: jsonValue }));
    // The partition keeps flowing past every poison record.
    const fatal = await runToCommittedEnd(kafka, t, 'p1');
    assert.equal(fatal, undefined, 'no worker crash');

    const outputs = await readAll(kafka, output);
    assert.equal(outputs.length, goods.length, 'every good record flowed past the poison');
    const dlq = await readAll(kafka, `${name}.dlq`);
    const got = dlq.map((m) => headerText(m.headers, 'sluice.error.code')).sort();
    assert.deepEqual(got, poison.map((p) => p.expect).sort());
    assert.ok(new Set(got).size >= 12, `at least 12 distinct reasons, got ${new Set(got).size}`);
    const produced = new Set(messages.map((_, i) => String(i)));
    for (const m of dlq) {
      assert.equal(headerText(m.headers, 'sluice.source.topic'), source);
      assert.ok(produced.has(headerText(m.headers, 'sluice.source.offset') ?? ''), 'names the source offset');
      assert.ok((headerText(m.headers, 'sluice.error.message') ?? '').length > 0, 'carries a message');
    }
    const validation = dlq.filter((m) => headerText(m.headers, 'sluice.error.code') === 'VALIDATION_FAILED');
    const reasons = validation.map((m) => headerText(m.headers, 'sluice.error.message')).join(' | ');
    assert.match(reasons, /range: amount=-50/);
    assert.match(reasons, /validity: currency/);
    assert.match(reasons, /validity: cardId/);
  },
);

after(async () => {
  await deleteTopics(kafka, [source, output, ...topologyTopics(name)]);
});
