/**
 * The Avro serde against the built-in registry on real Kafka: wire-format bytes, schema evolution, and
 * every SerdeError code provoked by real bad bytes or a real registry refusal.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { createKafka } from '../../connectors/kafka/client.js';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import {
  createAvroSerde,
  createRegistryClient,
  SerdeError,
  type RegistryClient,
  type SerdeErrorCode,
} from '../../connectors/schema-registry/index.js';
import { TxnEvent, type SchemaDescriptor, type TxnEventRecord } from '../../schemas/index.js';
import { startInProcessRegistry, type InProcessRegistry } from '../../services/registry/in-process.js';

const { kafkaBrokers } = loadEndpoints();
const schemasTopic = `_sluice_schemas_serde_${process.pid}_${Date.now()}`;
const topic = `txn.events.serde-test-${process.pid}`;

const txn: TxnEventRecord = {
  txnId: 't-1',
  cardId: 'c-1',
  accountId: 'a-1',
  merchantId: 'm-1',
  merchantCategory: '5411',
  amount: 12.5,
  currency: 'EUR',
  country: 'DE',
  channel: 'ECOMMERCE',
  ts: 1_700_000_000_123,
};

/** TxnEvent plus a field with a default: a BACKWARD- and FORWARD-compatible evolution. */
interface TxnEventV2 extends TxnEventRecord {
  deviceId: string;
}
const fields = TxnEvent.avsc.fields as object[];
const TxnEventV2: SchemaDescriptor<TxnEventV2> = {
  name: 'dev.sluice.TxnEvent',
  avsc: { ...TxnEvent.avsc, fields: [...fields, { name: 'deviceId', type: 'string', default: 'none' }] },
};

/** `attempt` may throw or reject: deserialize throws at once when the schema is cached. */
async function serdeError(attempt: () => unknown): Promise<SerdeError> {
  try {
    await attempt();
  } catch (err) {
    if (err instanceof SerdeError) return err;
    throw err;
  }
  assert.fail('expected a SerdeError');
}

async function expectCode(attempt: () => unknown, code: SerdeErrorCode): Promise<SerdeError> {
  const err = await serdeError(attempt);
  assert.equal(err.code, code, err.message);
  assert.equal(err.transient, code === 'REGISTRY_UNAVAILABLE');
  return err;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Avro serde with the schema registry', () => {
  let registry: InProcessRegistry;
  let client: RegistryClient;

  before(async () => {
    registry = await startInProcessRegistry({ brokers: kafkaBrokers, topic: schemasTopic });
    client = createRegistryClient(registry.url, undefined, { maxRetries: 0 });
  });

  after(async () => {
    await registry?.stop();
    const admin = createKafka(kafkaBrokers, 'serde-test-cleanup').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [schemasTopic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('writes the Confluent wire format and round-trips a value', async () => {
    const serde = createAvroSerde(TxnEvent, client, { topic });
    const bytes = await serde.serialize(txn);
    const id = await client.getId(`${topic}-value`, {
      schemaType: 'AVRO',
      schema: JSON.stringify(TxnEvent.avsc),
    });
    assert.equal(bytes[0], 0, 'magic byte');
    assert.equal(bytes.readInt32BE(1), id, 'big-endian schema id');
    const independent = avro.Type.forSchema(TxnEvent.avsc as avro.Schema).toBuffer(txn);
    assert.deepEqual(bytes.subarray(5), independent, 'Avro body');
    assert.deepEqual({ ...(await serde.deserialize(bytes)) }, txn);
    assert.equal(await serde.writerSchemaId(), id);
  });

  it('encodes from its cache once the id is known: bytes at once, each value in a buffer of its own', async () => {
    const serde = createAvroSerde(TxnEvent, client, { topic });
    const first = serde.serialize(txn);
    assert.ok(first instanceof Promise, 'the first value waits for the schema id');
    const firstBytes = await first;
    const a = serde.serialize({ ...txn, txnId: 'a' });
    assert.ok(Buffer.isBuffer(a), 'later values are framed synchronously (no Promise per record)');
    // Larger than the encoder's first scratch buffer: it grows, and the bytes are still whole.
    const big = { ...txn, txnId: 'x'.repeat(100_000) };
    const bigBytes = serde.serialize(big) as Buffer;
    assert.equal(bigBytes.length, 5 + avro.Type.forSchema(TxnEvent.avsc as avro.Schema).toBuffer(big).length);
    // A value that does not encode fails alone; the scratch space it touched does not leak into the next.
    assert.throws(() => serde.serialize({ ...txn, amount: 'twelve' } as unknown as TxnEventRecord), {
      code: 'AVRO_ENCODE_ERROR',
    });
    const b = serde.serialize({ ...txn, txnId: 'b' }) as Buffer;
    for (const [bytes, txnId] of [
      [firstBytes, txn.txnId],
      [a, 'a'],
      [bigBytes, big.txnId],
      [b, 'b'],
    ] as const) {
      assert.equal(
        (await serde.deserialize(bytes)).txnId,
        txnId,
        'no framed value shares memory with another',
      );
    }
  });

  it('resolves across schema versions in both directions', async () => {
    const v1 = createAvroSerde(TxnEvent, client, { topic });
    const v2 = createAvroSerde(TxnEventV2, client, { topic });
    const v2Bytes = await v2.serialize({ ...txn, deviceId: 'd-9' });
    assert.notEqual(v2Bytes.readInt32BE(1), await v1.writerSchemaId());
    const readByV1 = await v1.deserialize(v2Bytes);
    assert.deepEqual({ ...readByV1 }, txn, 'the old reader ignores the new field');
    const readByV2 = await v2.deserialize(await v1.serialize(txn));
    assert.deepEqual({ ...readByV2 }, { ...txn, deviceId: 'none' }, 'the new reader fills in the default');
  });

  it('reports each kind of bad payload with its code', async () => {
    const serde = createAvroSerde(TxnEvent, client, { topic });
    const good = await serde.serialize(txn);
    await expectCode(() => serde.deserialize(Buffer.alloc(0)), 'EMPTY_PAYLOAD');
    await expectCode(() => serde.deserialize(null), 'EMPTY_PAYLOAD');
    await expectCode(
      () => serde.deserialize(Buffer.concat([Buffer.from([1]), good.subarray(1)])),
      'BAD_MAGIC_BYTE',
    );
    await expectCode(() => serde.deserialize(Buffer.from('{"txnId":"t-1"}')), 'BAD_MAGIC_BYTE');
    await expectCode(() => serde.deserialize(good.subarray(0, 3)), 'TRUNCATED_HEADER');
    const unknownId = Buffer.from(good);
    unknownId.writeInt32BE(987_654, 1);
    await expectCode(() => serde.deserialize(unknownId), 'UNKNOWN_SCHEMA_ID');
    await expectCode(() => serde.deserialize(good.subarray(0, good.length - 3)), 'AVRO_DECODE_ERROR');
    await expectCode(() => serde.deserialize(Buffer.concat([good, Buffer.from([0])])), 'TRAILING_BYTES');
    // Wrong types: same schema id, but the channel enum index written by a producer that got it wrong.
    const badEnum = avro.Type.forSchema({
      type: 'record',
      name: 'Liar',
      fields: fields.map((f) =>
        (f as { name: string }).name === 'channel' ? { name: 'channel', type: 'int' } : f,
      ),
    } as avro.Schema);
    const liar = Buffer.concat([good.subarray(0, 5), badEnum.toBuffer({ ...txn, channel: 99 })]);
    const err = await expectCode(() => serde.deserialize(liar), 'AVRO_DECODE_ERROR');
    assert.match(err.message, /enum index/);
  });

  it('refuses to read data written with an unrelated schema (INCOMPATIBLE_SCHEMA)', async () => {
    const stringId = await client.register(`${topic}-strings`, { schemaType: 'AVRO', schema: '"string"' });
    const payload = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0]),
      avro.Type.forSchema('string').toBuffer('hi'),
    ]);
    payload.writeInt32BE(stringId, 1);
    const err = await expectCode(
      () => createAvroSerde(TxnEvent, client, { topic }).deserialize(payload),
      'INCOMPATIBLE_SCHEMA',
    );
    assert.match(err.message, new RegExp(`schema id ${stringId}`));
  });

  it('names subject and level when registration is refused (INCOMPATIBLE_SCHEMA)', async () => {
    const otherTopic = `${topic}.narrow`;
    const narrow = {
      type: 'record',
      name: 'TxnEvent',
      namespace: 'dev.sluice',
      fields: [{ name: 'txnId', type: 'string' }],
    };
    await client.register(`${otherTopic}-value`, { schemaType: 'AVRO', schema: JSON.stringify(narrow) });
    await client.updateCompatibility(`${otherTopic}-value`, 'BACKWARD_TRANSITIVE' as never);
    const err = await expectCode(
      () => createAvroSerde(TxnEvent, client, { topic: otherTopic }).serialize(txn),
      'INCOMPATIBLE_SCHEMA',
    );
    assert.match(err.message, new RegExp(`"${otherTopic.replace(/\./g, '\\.')}-value"`));
    assert.match(err.message, /BACKWARD_TRANSITIVE/);
  });

  it('rejects values that do not match the schema (AVRO_ENCODE_ERROR) naming the field', async () => {
    const serde = createAvroSerde(TxnEvent, client, { topic });
    const bad = { ...txn, amount: 'twelve' } as unknown as TxnEventRecord;
    const err = await expectCode(() => serde.serialize(bad), 'AVRO_ENCODE_ERROR');
    assert.match(err.message, /amount/);
  });

  it('tells an unreachable registry (transient) apart from bad data', async () => {
    const down = createRegistryClient(`http://127.0.0.1:${await closedPort()}`, undefined, { maxRetries: 0 });
    const good = await createAvroSerde(TxnEvent, client, { topic }).serialize(txn);
    const serde = createAvroSerde(TxnEvent, down, { topic });
    await expectCode(() => serde.deserialize(good), 'REGISTRY_UNAVAILABLE');
    await expectCode(() => serde.serialize(txn), 'REGISTRY_UNAVAILABLE');
  });

  it('decodes from its cache with no registry calls once a schema id is known', async (t) => {
    const serde = createAvroSerde(TxnEvent, client, { topic });
    const payloads = await Promise.all(
      Array.from({ length: 20_000 }, (_, i) => serde.serialize({ ...txn, txnId: `t-${i}`, amount: i })),
    );
    await serde.deserialize(payloads[0]!);
    await registry.stop(); // from here on any HTTP call would fail with REGISTRY_UNAVAILABLE
    const started = process.hrtime.bigint();
    let sum = 0;
    for (const p of payloads) sum += (await serde.deserialize(p)).amount;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    assert.equal(sum, (20_000 * 19_999) / 2);
    t.diagnostic(
      `decoded ${payloads.length} TxnEvents in ${(seconds * 1000).toFixed(0)} ms (${Math.round(payloads.length / seconds)}/s)`,
    );
  });
});
