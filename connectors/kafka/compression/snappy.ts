/**
 * Snappy the way Kafka's Java client writes it: snappy-java's stream framing ("xerial": a 16-byte header,
 * then blocks, each a big-endian length and a raw snappy block). Unframed raw snappy is read too, as
 * snappy-java does. Each block declares its size up front, so the bound is checked before any output.
 */
import snappy from 'snappyjs';
import { DecompressedTooLargeError, type KafkaCodec } from './limits.js';

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
/** snappy-java's default block size. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

function uncompressBounded(block: Buffer, budget: number, maxBytes: number): Buffer {
  try {
    return Buffer.from(snappy.uncompress(block, budget));
  } catch (err) {
    if (/too big/.test(String((err as Error).message))) {
      throw new DecompressedTooLargeError('snappy', maxBytes);
    }
    throw err;
  }
}

export function xerialDecompress(buffer: Buffer, maxBytes: number): Buffer {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return uncompressBounded(buffer, maxBytes, maxBytes);
  }
  const blocks: Buffer[] = [];
  let total = 0;
  let at = XERIAL_HEADER_BYTES;
  while (at < buffer.length) {
    if (at + 4 > buffer.length) throw new Error('truncated xerial snappy block header');
    const size = buffer.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > buffer.length) throw new Error('truncated xerial snappy block');
    const block = uncompressBounded(buffer.subarray(at, at + size), maxBytes - total, maxBytes);
    blocks.push(block);
    total += block.length;
    at += size;
  }
  return Buffer.concat(blocks, total);
}

export function xerialCompress(data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES) {
    const block = Buffer.from(snappy.compress(data.subarray(at, at + XERIAL_BLOCK_BYTES)));
    const size = Buffer.alloc(4);
    size.writeInt32BE(block.length);
    parts.push(size, block);
  }
  return Buffer.concat(parts);
}

export function snappyCodec(maxBytes: number): KafkaCodec {
  return {
    compress: async (encoder) => xerialCompress(encoder.buffer),
    decompress: async (buffer) => xerialDecompress(buffer, maxBytes),
  };
}
