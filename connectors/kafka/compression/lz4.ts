/**
 * LZ4 in the frame format Kafka uses (lz4-napi). A frame states its block size, and every block states
 * whether it is compressed and how long it is, so walking the block headers bounds the output before
 * anything is decompressed.
 */
import { compressFrame, decompressFrame } from 'lz4-napi';
import { nextFrame } from './frames.js';
import { DecompressedTooLargeError, type KafkaCodec } from './limits.js';

const FRAME_MAGIC = 0x184d2204;
const BLOCK_MAX_BYTES: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

/** The most the frames in `buffer` can expand to; throws on a malformed frame. */
export function lz4ExpansionBound(buffer: Buffer): number {
  let bound = 0;
  let at = 0;
  while (at < buffer.length) {
    const frame = nextFrame(buffer, at, 'lz4');
    if (frame.magic === -1) break; // only skippable frames were left
    const magic = frame.magic;
    at = frame.at;
    if (magic !== FRAME_MAGIC) throw new Error('not an lz4 frame (bad magic number)');
    if (at + 7 > buffer.length) throw new Error('truncated lz4 frame header');
    const flags = buffer[at + 4] as number;
    const blockMax = BLOCK_MAX_BYTES[((buffer[at + 5] as number) >> 4) & 0x7];
    if (blockMax === undefined) throw new Error('lz4 frame with an invalid block size');
    const blockChecksum = (flags & 0x10) !== 0;
    const contentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    const dictId = (flags & 0x01) !== 0;
    at += 4 + 2 + (contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1;
    for (;;) {
      if (at + 4 > buffer.length) throw new Error('truncated lz4 block header');
      const word = buffer.readUInt32LE(at);
      at += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      const stored = (word & 0x80000000) !== 0;
      bound += stored ? size : blockMax;
      at += size + (blockChecksum ? 4 : 0);
    }
    at += contentChecksum ? 4 : 0;
  }
  return bound;
}

export function lz4Codec(maxBytes: number): KafkaCodec {
  return {
    compress: (encoder) => compressFrame(encoder.buffer),
    async decompress(buffer) {
      const bound = lz4ExpansionBound(buffer);
      if (bound > maxBytes) throw new DecompressedTooLargeError('lz4', maxBytes, bound);
      return decompressFrame(buffer);
    },
  };
}
