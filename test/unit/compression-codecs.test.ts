/**
 * The codecs Sluice registers with kafkajs (connectors/kafka/compression): each reads what Kafka's clients
 * write, and each refuses a batch that would expand past the bound before it spends the memory.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import kafkajs from 'kafkajs';
import { compressFrame } from 'lz4-napi';
import { gzipCodec } from '../../connectors/kafka/compression/gzip.js';
import {
  DecompressedTooLargeError,
  registerCompressionCodecs,
} from '../../connectors/kafka/compression/index.js';
import type { KafkaCodec } from '../../connectors/kafka/compression/limits.js';
import { lz4Codec, lz4ExpansionBound } from '../../connectors/kafka/compression/lz4.js';
import { snappyCodec, xerialCompress, xerialDecompress } from '../../connectors/kafka/compression/snappy.js';
import { zstdCodec, zstdExpansionBound } from '../../connectors/kafka/compression/zstd.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;
const MiB = 1024 * 1024;
const encoder = (buffer: Buffer) => ({ buffer });

const writable: Array<[string, (max: number) => KafkaCodec]> = [
  ['gzip', gzipCodec],
  ['snappy', snappyCodec],
  ['lz4', lz4Codec],
];

for (const [name, codec] of writable) {
  test(`${name}: what it compresses comes back byte for byte`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200_000 }), async (bytes) => {
        const data = Buffer.from(bytes);
        const c = codec(MiB);
        assert.deepEqual(await c.decompress(await c.compress(encoder(data))), data);
      }),
      { numRuns: 40 },
    );
  });

  test(`${name}: a batch that expands past the bound is refused, one within it is not`, async () => {
    const zeros = Buffer.alloc(3 * MiB);
    const compressed = await codec(64 * MiB).compress(encoder(zeros));
    assert.ok(compressed.length < 200_000, `${name} squeezes 3 MiB of zeros to ${compressed.length} bytes`);
    await assert.rejects(codec(MiB).decompress(compressed), DecompressedTooLargeError);
    assert.equal((await codec(4 * MiB).decompress(compressed)).length, zeros.length);
  });
}

test('snappy: snappy-java stream framing and unframed raw snappy are both read', () => {
  const data = Buffer.from('sluice '.repeat(20_000));
  const framed = xerialCompress(data);
  assert.deepEqual(framed.subarray(0, 8), Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
  assert.deepEqual(xerialDecompress(framed, MiB), data);
  // Raw snappy: the body of the first 32 KiB block, without the stream header.
  const firstBlock = framed.subarray(20, 20 + framed.readInt32BE(16));
  assert.deepEqual(xerialDecompress(firstBlock, MiB), data.subarray(0, 32 * 1024));
  assert.throws(() => xerialDecompress(framed.subarray(0, framed.length - 3), MiB), /truncated/);
});

test('lz4: the bound read from the block headers is never below the real size, whatever the frame flags', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 300_000 }),
      fc.boolean(),
      fc.boolean(),
      fc.nat({ max: 600_000 }),
      async (bytes, contentChecksum, blockChecksums, zeros) => {
        const data = Buffer.concat([Buffer.from(bytes), Buffer.alloc(zeros)]);
        const frame = await compressFrame(data, { contentChecksum, blockChecksums });
        const bound = lz4ExpansionBound(frame);
        assert.ok(bound >= data.length, `bound ${bound} < ${data.length}`);
        assert.ok(bound <= data.length + 4 * MiB, `bound ${bound} far above ${data.length}`);
        assert.deepEqual(await lz4Codec(bound).decompress(frame), data);
      },
    ),
    { numRuns: 30 },
  );
  assert.throws(() => lz4ExpansionBound(Buffer.from('not lz4 at all')), /bad magic/);
});

/** What test/fixtures/events-400.txt.zst holds (written by the zstd 1.5 CLI, level 19, with a checksum). */
const fixtureText = () =>
  Array.from({ length: 400 }, (_, i) => `event ${i} card-${i % 37} amount ${(i * 7) % 1000}\n`).join('');

test('zstd: a frame written by the zstd CLI is read, and its bound covers it', async () => {
  const frame = readFileSync(new URL('../fixtures/events-400.txt.zst', import.meta.url));
  const text = fixtureText();
  const { bound } = zstdExpansionBound(frame);
  assert.ok(bound >= text.length, `bound ${bound} < ${text.length}`);
  assert.equal((await zstdCodec(MiB).decompress(frame)).toString(), text);
  await assert.rejects(zstdCodec(1024).decompress(frame), DecompressedTooLargeError);
});

test('zstd: what Sluice writes is a standard frame that shrinks the batch and reads back whole', async () => {
  const text = Buffer.from(fixtureText());
  const frame = await zstdCodec(MiB).compress(encoder(text));
  assert.equal(frame.readUInt32LE(0), 0xfd2fb528, 'zstd frame magic');
  assert.ok(frame.length < text.length / 3, `${frame.length} bytes for ${text.length}`);
  assert.ok(zstdExpansionBound(frame).bound >= text.length);
  assert.deepEqual(await zstdCodec(MiB).decompress(frame), text);
});

/** A zstd frame of RLE blocks: 4 bytes of input per block, each repeating one byte up to 2 MiB times. */
function rleFrame(blocks: number, blockBytes: number, windowLog = 22): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (windowLog - 10) << 3])];
  for (let i = 0; i < blocks; i += 1) {
    const header = Buffer.alloc(3);
    header.writeUIntLE((blockBytes << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0), 0, 3);
    parts.push(header, Buffer.from([0x61]));
  }
  return Buffer.concat(parts);
}

test('zstd: a few hundred bytes of RLE blocks declaring gigabytes are refused before any output', async () => {
  const small = rleFrame(3, 1000);
  assert.equal((await zstdCodec(MiB).decompress(small)).toString(), 'a'.repeat(3000));
  const bomb = rleFrame(1000, 2 * MiB - 1);
  assert.ok(bomb.length < 5000);
  assert.equal(zstdExpansionBound(bomb).bound, 1000 * (2 * MiB - 1));
  await assert.rejects(zstdCodec(64 * MiB).decompress(bomb), DecompressedTooLargeError);
  // A window of 2 GiB would make fzstd allocate it up front: refused on the header alone.
  await assert.rejects(zstdCodec(64 * MiB).decompress(rleFrame(1, 10, 31)), /window, over libzstd's limit/);
});

test('skippable frames before, between and after data frames hold no data and are passed over', async () => {
  const skippable = (n: number) => {
    const frame = Buffer.alloc(8 + n, 0x77);
    frame.writeUInt32LE(0x184d2a53, 0);
    frame.writeUInt32LE(n, 4);
    return frame;
  };
  const zstd = Buffer.concat([skippable(5), rleFrame(3, 1000), skippable(0), rleFrame(1, 10), skippable(9)]);
  assert.equal(zstdExpansionBound(zstd).bound, 3010);
  assert.equal((await zstdCodec(MiB).decompress(zstd)).toString(), 'a'.repeat(3010));
  const data = Buffer.from('sluice '.repeat(1000));
  const lz4 = Buffer.concat([skippable(3), await compressFrame(data), skippable(4)]);
  assert.ok(lz4ExpansionBound(lz4) >= data.length);
  assert.throws(() => zstdExpansionBound(skippable(5).subarray(0, 10)), /truncated zstd/);
});

test('registration puts every codec Kafka defines into kafkajs, and a bad bound fails fast', () => {
  registerCompressionCodecs();
  const table = CompressionCodecs as Record<number, () => KafkaCodec>;
  for (const type of [
    CompressionTypes.GZIP,
    CompressionTypes.Snappy,
    CompressionTypes.LZ4,
    CompressionTypes.ZSTD,
  ]) {
    const codec = table[type]?.();
    assert.equal(typeof codec?.decompress, 'function', `codec ${type}`);
  }
  assert.throws(() => registerCompressionCodecs(0), /positive whole number of bytes/);
  assert.throws(() => registerCompressionCodecs(1.5), /positive whole number of bytes/);
});
