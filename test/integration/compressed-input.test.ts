/**
 * Input compressed by other producers. kafkajs ships gzip only, so a batch written with snappy, lz4 or
 * zstd (the Java client's usual choices) failed every fetch of its partition; Sluice registers all four
 * codecs (connectors/kafka/compression). A batch that would expand past the bound (a compression bomb: the
 * broker checks compressed sizes only) is dead-lettered whole, and the partition goes on.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import kafkajs from 'kafkajs';
import { jsonValue, kafkaSink, type SinkCompression } from '../../connectors/kafka/kafka-sink.js';
import {
  DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES,
  registerCompressionCodecs,
} from '../../connectors/kafka/compression/index.js';
import {
  createTopic,
  deleteTopics,
  headerText,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
} from '../support/kafka.js';
import { javaProduce, javaRead, type JavaCodec } from '../support/java-producer.js';
import { jsonDecoder } from '../support/json-decoder.js';
import { decodeKeyedTopology, runToCommittedEnd } from '../support/run-to-end.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { kafkaSource, topology } from '../../topologies/builder.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;
const kafka = testKafka();
const names: string[] = [];

interface Event {
  id: number;
  card: string;
  ts: number;
}

const event = (id: number, now: number): Event => ({ id, card: `card-${id % 13}`, ts: now + id });

test(
  'batches the Java producer compressed with gzip, snappy, lz4 and zstd are all read, in order',
  { timeout: 180_000 },
  async () => {
    const name = uniqueName('compressed-in');
    names.push(name);
    await createTopic(kafka, `${name}.in`, 1);
    const now = Date.now();
    const codecs: JavaCodec[] = ['gzip', 'snappy', 'lz4', 'zstd'];
    const sent: Event[] = [];
    for (const codec of codecs) {
      const events = Array.from({ length: 1000 }, (_, i) => event(sent.length + i, now));
      javaProduce(
        `${name}.in`,
        events.map((e) => [e.card, JSON.stringify(e)] as const),
        codec,
      );
      sent.push(...events);
    }
    const t = decodeKeyedTopology(
      name,
      jsonDecoder<Event>(),
      (e) => e.ts,
      (e) => e.card,
    );
    const fatal = await runToCommittedEnd(kafka, t, 'c1');
    assert.equal(fatal, undefined, 'no worker crash');
    const outputs = await readAll(kafka, `${name}.out`);
    assert.deepEqual(
      outputs.map((m) => (JSON.parse(String(m.value)) as Event).id),
      sent.map((e) => e.id),
    );
    assert.deepEqual(await readAll(kafka, `${name}.dlq`), [], 'nothing dead-lettered');
  },
);

test(
  'a gzip batch that would expand past the bound is dead-lettered whole; the records around it flow',
  { timeout: 120_000 },
  async () => {
    const name = uniqueName('compression-bomb');
    names.push(name);
    await createTopic(kafka, `${name}.in`, 1);
    const now = Date.now();
    const producer = kafka.producer();
    await producer.connect();
    const send = (messages: Array<{ key: string; value: Buffer | string }>) =>
      producer.send({ topic: `${name}.in`, compression: CompressionTypes.GZIP, messages });
    const before = Array.from({ length: 5 }, (_, i) => event(i, now));
    const afterBomb = Array.from({ length: 5 }, (_, i) => event(100 + i, now));
    // One send is one record batch: 5 records, then the bomb (2 records of 3 MiB of zeros, a few KB
    // compressed), then 5 more.
    await send(before.map((e) => ({ key: e.card, value: JSON.stringify(e) })));
    await send([
      { key: 'bomb-a', value: Buffer.alloc(3 * 1024 * 1024) },
      { key: 'bomb-b', value: Buffer.alloc(3 * 1024 * 1024) },
    ]);
    await send(afterBomb.map((e) => ({ key: e.card, value: JSON.stringify(e) })));
    await producer.disconnect();

    // The worker runs in this process: a 1 MiB bound stands for the default 64 MiB at a test's scale.
    registerCompressionCodecs(1024 * 1024);
    try {
      const t = decodeKeyedTopology(
        name,
        jsonDecoder<Event>(),
        (e) => e.ts,
        (e) => e.card,
      );
      const fatal = await runToCommittedEnd(kafka, t, 'b1');
      assert.equal(fatal, undefined, 'no worker crash');
    } finally {
      registerCompressionCodecs(DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES);
    }
    const outputs = await readAll(kafka, `${name}.out`);
    assert.deepEqual(
      outputs.map((m) => (JSON.parse(String(m.value)) as Event).id),
      [...before, ...afterBomb].map((e) => e.id),
    );
    const dlq = await readAll(kafka, `${name}.dlq`);
    assert.equal(dlq.length, 1, 'one dead letter for the whole batch');
    const letter = dlq[0] as (typeof dlq)[number];
    assert.equal(headerText(letter.headers, 'sluice.error.code'), 'UNDECOMPRESSABLE_BATCH');
    assert.equal(headerText(letter.headers, 'sluice.source.offset'), '6', 'at the batch last offset');
    assert.match(
      headerText(letter.headers, 'sluice.error.message') ?? '',
      /batch of 2 records at offsets 5-6 could not be decompressed \(gzip batch expands past the 1,048,576-byte bound/,
    );
    assert.ok(
      (letter.value?.length ?? 0) > 0 && (letter.value?.length ?? 0) < 100_000,
      'it carries the compressed records',
    );
  },
);

test(
  'a sink set to compress writes batches in that codec, and they read back unchanged, in Java too',
  { timeout: 240_000 },
  async () => {
    const now = Date.now();
    const events = Array.from({ length: 2000 }, (_, i) => event(i, now));
    for (const compression of ['lz4', 'snappy', 'gzip', 'zstd'] as SinkCompression[]) {
      const name = uniqueName(`sink-${compression}`);
      names.push(name);
      await createTopic(kafka, `${name}.in`, 1);
      javaProduce(
        `${name}.in`,
        events.map((e) => [e.card, JSON.stringify(e)] as const),
        'none',
      );
      const t = topology(name)
        .from(kafkaSource(`${name}.in`))
        .pipe(
          decode(jsonDecoder<Event>(), { eventTime: (e) => e.ts }),
          keyBy((e) => e.card),
        )
        .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue, compression }));
      assert.equal(await runToCommittedEnd(kafka, t, 's1'), undefined, 'no worker crash');

      // Reading the output back must go through that codec: count its batches on the way.
      const type =
        CompressionTypes[
          ({ lz4: 'LZ4', snappy: 'Snappy', gzip: 'GZIP', zstd: 'ZSTD' } as const)[
            compression as Exclude<SinkCompression, 'none'>
          ]
        ];
      const table = CompressionCodecs as Record<number, () => { decompress(b: Buffer): Promise<Buffer> }>;
      const registered = table[type] as () => { decompress(b: Buffer): Promise<Buffer> };
      let batches = 0;
      table[type] = () => {
        const codec = registered();
        return { ...codec, decompress: (b: Buffer) => ((batches += 1), codec.decompress(b)) };
      };
      let outputs;
      try {
        outputs = await readAll(kafka, `${name}.out`);
      } finally {
        table[type] = registered;
      }
      assert.ok(batches > 0, `the output of ${compression} was read through the ${compression} codec`);
      assert.deepEqual(
        outputs.map((m) => (JSON.parse(String(m.value)) as Event).id),
        events.map((e) => e.id),
      );
      // Kafka's Java client reads the same batches (for zstd, frames from Sluice's own WebAssembly encoder).
      const readByJava = javaRead(`${name}.out`, events.length).map((v) => (JSON.parse(v) as Event).id);
      assert.deepEqual(
        readByJava,
        events.map((e) => e.id),
        `${compression}: the Java client reads it all`,
      );
    }
    assert.throws(
      () => kafkaSink({ topic: 'x', serialize: jsonValue, compression: 'brotli' as SinkCompression }),
      /compression 'brotli' is not one of none, gzip, snappy, lz4, zstd/,
    );
  },
);

after(async () => {
  await deleteTopics(
    kafka,
    names.flatMap((n) => [`${n}.in`, `${n}.out`, ...topologyTopics(n)]),
  );
});
