/**
 * patches/kafkajs+2.2.4.patch rewrites parts of kafkajs' wire encoding for speed. These properties hold
 * the patched code to the protocol, computed independently here with BigInt: the bytes on the wire must
 * not change. (The integration tests produce and consume through the same code.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';

const require = createRequire(import.meta.url);

interface EncoderInstance {
  writeVarInt(v: number): EncoderInstance;
  writeVarLong(v: unknown): EncoderInstance;
  writeEncoderArray(v: EncoderInstance[]): EncoderInstance;
  readonly buffer: Buffer;
}
interface EncoderClass {
  new (initialSize?: number): EncoderInstance;
  sizeOfVarInt(v: number): number;
  sizeOfVarLong(v: unknown): number;
}
const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => EncoderInstance;
const Long = require('kafkajs/src/utils/long') as { fromString(s: string): unknown };

/** Zigzag then unsigned LEB128, as the Kafka protocol defines varint (bits = 32) and varlong (bits = 64). */
function reference(value: bigint, bits: 32n | 64n): Buffer {
  let z = BigInt.asUintN(Number(bits), (value << 1n) ^ (value >> (bits - 1n)));
  const bytes: number[] = [];
  while (z >= 0x80n) {
    bytes.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  bytes.push(Number(z));
  return Buffer.from(bytes);
}

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

test('varints are written in place with the protocol bytes, and sized to match', () => {
  fc.assert(
    fc.property(int32, (n) => {
      const expected = reference(BigInt(n), 32n);
      assert.deepEqual(new Encoder().writeVarInt(n).buffer, expected);
      assert.equal(Encoder.sizeOfVarInt(n), expected.length);
    }),
  );
});

test('varlongs: small numbers take the varint path, everything else Long.js; same bytes either way', () => {
  const anyLong = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  fc.assert(
    fc.property(fc.oneof(int32.map(BigInt), anyLong), (n) => {
      const expected = reference(n, 64n);
      const inputs: unknown[] = [Long.fromString(n.toString()), n.toString()];
      if (Number.isSafeInteger(Number(n))) inputs.push(Number(n));
      for (const input of inputs) {
        assert.deepEqual(new Encoder().writeVarLong(input).buffer, expected, `${typeof input} ${n}`);
        assert.equal(Encoder.sizeOfVarLong(input), expected.length, `${typeof input} ${n}`);
      }
    }),
  );
});

/** What Record() encodes: the fields of a produced message plus its deltas within the batch. */
const record = fc.record({
  offsetDelta: fc.nat({ max: 100_000 }),
  timestampDelta: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  key: fc.option(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))),
  value: fc.option(fc.uint8Array({ maxLength: 2_000 }).map((a) => Buffer.from(a))),
  headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 20 }), {
    maxKeys: 3,
  }),
});

test('a record is exactly its declared size, and encoder arrays concatenate byte for byte', () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 20 }), (records) => {
      const encoded = records.map((r) => Record(r));
      for (const e of encoded) {
        const bytes = e.buffer;
        // The leading varint is the body length: what follows it must be exactly that long.
        const lengthBytes = bytes.findIndex((b) => (b & 0x80) === 0) + 1;
        let z = 0n;
        for (let i = lengthBytes - 1; i >= 0; i -= 1) z = (z << 7n) | BigInt((bytes[i] as number) & 0x7f);
        const body = Number((z >> 1n) ^ -(z & 1n));
        assert.equal(bytes.length, lengthBytes + body);
      }
      const joined = new Encoder(1).writeEncoderArray(encoded).buffer;
      assert.deepEqual(joined, Buffer.concat(encoded.map((e) => e.buffer)));
    }),
  );
});

interface DecoderInstance {
  readVarInt(): number;
}
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => DecoderInstance;
const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  d: DecoderInstance,
  context: object,
) => {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  offset: string;
  timestamp: string;
};

test("records decode back to what was encoded (kafkajs' own decoder), headers or none", () => {
  // Encoders take unzeroed buffers: a byte the encoder did not write must never reach the wire.
  Buffer.allocUnsafe(4096).fill(0xa5);
  fc.assert(
    fc.property(record, (r) => {
      const decoder = new Decoder(Record(r).buffer);
      decoder.readVarInt(); // the record's length
      const back = RecordDecoder(decoder, { firstOffset: '1000', firstTimestamp: '5000', magicByte: 2 });
      assert.deepEqual(back.key, r.key);
      assert.deepEqual(back.value, r.value);
      assert.equal(back.offset, String(1000 + r.offsetDelta));
      assert.equal(back.timestamp, String(5000 + r.timestampDelta));
      const headers = Object.fromEntries(Object.entries(back.headers).map(([k, v]) => [k, v.toString()]));
      assert.deepEqual(headers, { ...r.headers });
    }),
  );
});

test('headers named like Object.prototype members decode as themselves, not as repeated headers', () => {
  const headers = { constructor: 'a', toString: 'b', valueOf: 'c', plain: 'd' };
  const decoder = new Decoder(Record({ key: null, value: null, headers }).buffer);
  decoder.readVarInt();
  const back = RecordDecoder(decoder, { firstOffset: '0', firstTimestamp: '0', magicByte: 2 });
  const text = Object.fromEntries(Object.entries(back.headers).map(([k, v]) => [k, v.toString()]));
  assert.deepEqual(text, headers);
});

/** Decodes what Record() encoded for `headers` (a repeated header is an array of its values). */
function roundTripHeaders(headers: Record<string, string | string[]>): Record<string, Buffer | Buffer[]> {
  const decoder = new Decoder(Record({ key: null, value: null, headers }).buffer);
  decoder.readVarInt();
  return RecordDecoder(decoder, { firstOffset: '0', firstTimestamp: '0', magicByte: 2 }).headers as Record<
    string,
    Buffer | Buffer[]
  >;
}

const asText = (v: Buffer | Buffer[]) => (Array.isArray(v) ? v.map(String) : String(v));

test('repeated headers decode to their values in order; a single value stays a value', () => {
  const values = fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 5 });
  fc.assert(
    fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), values, { maxKeys: 4 }), (spec) => {
      const back = roundTripHeaders(spec);
      const expected = Object.fromEntries(
        Object.entries(spec).map(([k, vs]) => [k, vs.length === 1 ? vs[0] : vs]),
      );
      assert.deepEqual(Object.fromEntries(Object.entries(back).map(([k, v]) => [k, asText(v)])), expected);
    }),
  );
});

test('a header named __proto__ decodes as an own header and leaves the prototype alone', () => {
  const back = roundTripHeaders(JSON.parse('{"__proto__": "x", "a": "y"}') as Record<string, string>);
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.deepEqual(Object.keys(back), ['__proto__', 'a']);
  assert.equal(String(Object.getOwnPropertyDescriptor(back, '__proto__')?.value), 'x');
});

/** Run in a child process, so a decoder that never returns is killed and fails the test. */
const floodScript = `
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
  const Decoder = require('kafkajs/src/protocol/decoder');
  const decode = require('kafkajs/src/protocol/recordBatch/record/v0/decoder');
  const roundTrip = (headers) => {
    const decoder = new Decoder(Record({ key: null, value: null, headers }).buffer);
    decoder.readVarInt();
    return decode(decoder, { firstOffset: '0', firstTimestamp: '0', magicByte: 2 }).headers;
  };
  const n = 20000;
  const distinct = roundTrip(Object.fromEntries(Array.from({ length: n }, (_, i) => ['h' + i, String(i)])));
  const repeated = roundTrip({ h: Array.from({ length: n }, (_, i) => String(i)) }).h;
  console.log(JSON.stringify([Object.keys(distinct).length, String(distinct.h19999), repeated.length,
    String(repeated[0]), String(repeated[n - 1])]));
`;

test('a record of 20,000 headers decodes whole, distinct or repeated (stock kafkajs took over a minute)', () => {
  // A liveness check, not a benchmark: the stock decoder copied the whole header object once per header.
  const run = spawnSync(process.execPath, ['-e', floodScript], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.signal, null, `decoding was killed (${run.signal}) at the 30 s timeout`);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), [20_000, '19999', 20_000, '0', '19999']);
});

const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: Buffer | string,
) => number;

/** kafkajs' murmur2 before the patch (Long.js, 64-bit), ported to BigInt: only the low 32 bits are kept. */
function murmur2Long(data: Buffer): number {
  const M = 0x5bd1e995n;
  const i64 = (x: bigint) => BigInt.asIntN(64, x);
  const low = (x: bigint) => Number(BigInt.asIntN(32, x)); // Long#toInt
  let h = i64(0x9747b28cn ^ BigInt(data.length));
  for (let i = 0; i + 4 <= data.length; i += 4) {
    const word =
      (data[i] as number) +
      ((data[i + 1] as number) << 8) +
      ((data[i + 2] as number) << 16) +
      ((data[i + 3] as number) << 24);
    let k = i64(BigInt(word) * M);
    k = i64(k ^ BigInt(low(k) >>> 24));
    k = i64(k * M);
    h = i64(h * M);
    h = i64(h ^ k);
  }
  const tail = data.length & ~3;
  const rest = data.length % 4;
  if (rest >= 3) h = i64(h ^ BigInt((data[tail + 2] as number) << 16));
  if (rest >= 2) h = i64(h ^ BigInt((data[tail + 1] as number) << 8));
  if (rest >= 1) {
    h = i64(h ^ BigInt(data[tail] as number));
    h = i64(h * M);
  }
  h = i64(h ^ BigInt(low(h) >>> 13));
  h = i64(h * M);
  h = i64(h ^ BigInt(low(h) >>> 15));
  return low(h);
}

test("the default partitioner's murmur2 gives Kafka's hashes (32-bit arithmetic instead of Long.js)", () => {
  // The Java client's own test vectors (UtilsTest.testMurmur2): keys land on the partitions Java picks.
  const java: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of java) {
    assert.equal(murmur2(key), hash, key);
    assert.equal(murmur2Long(Buffer.from(key)), hash, `reference ${key}`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const key = Buffer.from(bytes);
      assert.equal(murmur2(key), murmur2Long(key));
    }),
    { numRuns: 2000 },
  );
});

test("a produced batch's first and max timestamps are the numeric min and max of its records'", async () => {
  const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (o: object) => {
    encode(): Promise<EncoderInstance>;
  };
  const topic = 'ts';
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.option(fc.integer({ min: 1, max: 2 ** 45 }), { nil: undefined }), {
        minLength: 1,
        maxLength: 50,
      }),
      async (stamps) => {
        const messages = stamps.map((t, i) => ({
          key: null,
          value: Buffer.from(String(i)),
          ...(t === undefined ? {} : { timestamp: String(t) }),
        }));
        const before = Date.now();
        const request = await produceV3({
          acks: -1,
          timeout: 1000,
          topicData: [{ topic, partitions: [{ partition: 0, firstSequence: 0, messages }] }],
        }).encode();
        const b = request.buffer;
        // transactionalId (null), acks, timeout, topic count, topic, partition count, partition, set size,
        // base offset, batch length, leader epoch, magic, crc, attributes, last offset delta.
        const at = 2 + 2 + 4 + 4 + 2 + topic.length + 4 + 4 + 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4;
        const first = Number(b.readBigInt64BE(at));
        const max = Number(b.readBigInt64BE(at + 8));
        const given = stamps.filter((t): t is number => t !== undefined);
        if (given.length > 0) {
          assert.equal(first, Math.min(...given));
          assert.equal(max, Math.max(...given));
        } else {
          assert.ok(first >= before && first === max, 'no timestamps: the send time');
        }
      },
    ),
  );
});

interface FakeBroker {
  readonly nodeId: number;
  readonly calls: string[];
  failNext?: Error;
}

/**
 * The patched transaction manager against a fake cluster: the coordinators are looked up once and reused,
 * and a failed request to one makes the next call look it up again (as after a coordinator move).
 */
test('transactional requests reuse the looked-up coordinators and look again after a failure', async () => {
  const createEosManager = require('kafkajs/src/producer/eosManager') as (o: object) => {
    initProducerId(): Promise<void>;
    beginTransaction(): void;
    addPartitionsToTransaction(t: object[]): Promise<void>;
    sendOffsets(o: object): Promise<void>;
    commit(): Promise<void>;
    abort(): Promise<void>;
  };
  const lookups: string[] = [];
  const brokers = new Map<number, FakeBroker>();
  const broker = (nodeId: number): FakeBroker => {
    let b = brokers.get(nodeId);
    if (!b) brokers.set(nodeId, (b = { nodeId, calls: [] }));
    return b;
  };
  let coordinatorNode = 1;
  const request = (b: FakeBroker, name: string) => async () => {
    b.calls.push(name);
    const failure = b.failNext;
    b.failNext = undefined;
    if (failure) throw failure;
    return name === 'initProducerId' ? { producerId: 7, producerEpoch: 0 } : {};
  };
  const asKafkaBroker = (b: FakeBroker) => ({
    nodeId: b.nodeId,
    initProducerId: request(b, 'initProducerId'),
    addPartitionsToTxn: request(b, 'addPartitionsToTxn'),
    addOffsetsToTxn: request(b, 'addOffsetsToTxn'),
    txnOffsetCommit: request(b, 'txnOffsetCommit'),
    endTxn: request(b, 'endTxn'),
  });
  const cluster = {
    retry: { retries: 0 },
    refreshMetadataIfNecessary: async () => undefined,
    findGroupCoordinator: async ({ groupId }: { groupId: string }) => {
      lookups.push(groupId);
      return asKafkaBroker(broker(coordinatorNode));
    },
    findBroker: async ({ nodeId }: { nodeId: number }) => asKafkaBroker(broker(nodeId)),
  };
  const silent = () => undefined;
  const eos = createEosManager({
    logger: { debug: silent, info: silent, warn: silent, error: silent },
    cluster,
    transactional: true,
    transactionalId: 'tx-1',
  });
  const transaction = async (partition: number) => {
    eos.beginTransaction();
    await eos.addPartitionsToTransaction([{ topic: 'changelog', partitions: [{ partition }] }]);
    await eos.sendOffsets({ consumerGroupId: 'group-1', topics: [] });
    await eos.commit();
  };
  await eos.initProducerId();
  await transaction(0);
  await transaction(1);
  assert.deepEqual(lookups, ['tx-1', 'group-1'], 'each coordinator looked up once for two transactions');

  // The coordinator moves: the old one refuses the next request, which forgets the cached ones.
  coordinatorNode = 2;
  broker(1).failNext = Object.assign(new Error('This is not the correct coordinator'), {
    type: 'NOT_COORDINATOR',
    retriable: true,
  });
  eos.beginTransaction();
  await assert.rejects(
    eos.addPartitionsToTransaction([{ topic: 'changelog', partitions: [{ partition: 2 }] }]),
    /not the correct coordinator/,
  );
  await eos.abort();
  await transaction(2);
  assert.deepEqual(lookups, ['tx-1', 'group-1', 'tx-1', 'group-1'], 'looked up again after the failure');
  assert.deepEqual(broker(2).calls, ['addPartitionsToTxn', 'addOffsetsToTxn', 'txnOffsetCommit', 'endTxn']);
});

interface QueuedRequest {
  entry: { correlationId: number; apiName: string; resolve(r: unknown): void; reject(e: unknown): void };
  expectResponse: boolean;
  sendRequest(): void;
}
interface RequestQueueInstance {
  push(request: QueuedRequest): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
}

/**
 * Stock kafkajs scheduled a pending-request check after every request even with nothing pending, with a
 * negative delay when not throttled: a 1 ms timer loop per connection for as long as it stayed open (a few
 * % of a core per idle client). Requests held back (in-flight limit, throttling) must still go out.
 */
test('an idle connection schedules no timer; held-back requests still go out', async () => {
  const RequestQueue = require('kafkajs/src/network/requestQueue') as new (o: object) => RequestQueueInstance;
  const silent = () => undefined;
  const queue = new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: { debug: silent, info: silent, warn: silent, error: silent },
  });
  const sent: number[] = [];
  const request = (correlationId: number): QueuedRequest => ({
    entry: { correlationId, apiName: 'Metadata', resolve: silent, reject: silent },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  });
  const fulfil = (correlationId: number) =>
    queue.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });
  // A check scheduled while something was pending may still fire once; after that nothing may be left.
  const settledIdle = async (why: string) => {
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(queue.throttleCheckTimeoutId, null, why);
  };
  try {
    queue.push(request(1));
    fulfil(1);
    await settledIdle('no check scheduled once nothing is pending');

    // The in-flight limit holds the second request back until the first is answered.
    queue.push(request(2));
    queue.push(request(3));
    assert.deepEqual(sent, [1, 2]);
    fulfil(2);
    assert.deepEqual(sent, [1, 2, 3]);
    fulfil(3);
    await settledIdle('no check left once the held request went out');

    // A broker-requested throttle holds a request back; the scheduled check sends it when it ends.
    queue.maybeThrottle(30);
    queue.push(request(4));
    assert.deepEqual(sent, [1, 2, 3]);
    assert.notEqual(queue.throttleCheckTimeoutId, null, 'a check is scheduled for the held request');
    const deadline = Date.now() + 2000;
    while (sent.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(sent, [1, 2, 3, 4]);
    fulfil(4);
    await settledIdle('no check left after the throttle');
  } finally {
    queue.destroy();
  }
});
