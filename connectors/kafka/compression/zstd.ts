/**
 * Zstandard (Node 20's zlib has none). Reading uses fzstd: frames and blocks state their sizes, so walking
 * their headers bounds the output (and the window fzstd would allocate) before anything is decompressed.
 * Writing uses libzstd compiled to WebAssembly (@bokuweb/zstd-wasm), which makes standard frames that the
 * brokers (zstd-jni) and every other client read.
 */
import { compress as zstdCompress, init as initZstdEncoder } from '@bokuweb/zstd-wasm';
import { decompress } from 'fzstd';
import { nextFrame } from './frames.js';
import { DecompressedTooLargeError, type KafkaCodec } from './limits.js';

const FRAME_MAGIC = 0xfd2fb528;
const BLOCK_MAX_BYTES = 128 * 1024;
/** libzstd's own default limit on a frame's window (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27): fzstd allocates it. */
const WINDOW_MAX_BYTES = 2 ** 27;

/** The most the frames in `buffer` can expand to, and the largest window they ask for. */
export function zstdExpansionBound(buffer: Buffer): { bound: number; window: number } {
  let bound = 0;
  let window = 0;
  let at = 0;
  while (at < buffer.length) {
    const frame = nextFrame(buffer, at, 'zstd');
    if (frame.magic === -1) break; // only skippable frames were left
    const magic = frame.magic;
    at = frame.at;
    if (magic !== FRAME_MAGIC) throw new Error('not a zstd frame (bad magic number)');
    if (at + 5 > buffer.length) throw new Error('truncated zstd frame header');
    const descriptor = buffer[at + 4] as number;
    const sizeFlag = descriptor >> 6;
    const singleSegment = (descriptor >> 5) & 1;
    const checksum = (descriptor >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][descriptor & 3] as number;
    at += 5;
    let frameWindow = 0;
    if (!singleSegment) {
      const wd = buffer[at] as number;
      const base = 2 ** (10 + (wd >> 3));
      frameWindow = base + (base / 8) * (wd & 7);
      at += 1;
    }
    at += dictBytes;
    const sizeBytes = sizeFlag === 0 ? singleSegment : 2 ** sizeFlag;
    if (sizeBytes > 0) {
      if (at + sizeBytes > buffer.length) throw new Error('truncated zstd frame header');
      let size = 0;
      for (let i = sizeBytes - 1; i >= 0; i -= 1) size = size * 256 + (buffer[at + i] as number);
      if (sizeBytes === 2) size += 256;
      if (singleSegment) frameWindow = size;
      at += sizeBytes;
    }
    window = Math.max(window, frameWindow);
    const blockMax = Math.min(frameWindow || BLOCK_MAX_BYTES, BLOCK_MAX_BYTES);
    for (;;) {
      if (at + 3 > buffer.length) throw new Error('truncated zstd block header');
      const header = buffer.readUIntLE(at, 3);
      at += 3;
      const last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 0) {
        bound += size; // raw
        at += size;
      } else if (type === 1) {
        bound += size; // RLE: one byte repeated `size` times
        at += 1;
      } else if (type === 2) {
        bound += blockMax;
        at += size;
      } else {
        throw new Error('zstd block of reserved type');
      }
      if (last) break;
    }
    at += checksum ? 4 : 0;
  }
  return { bound, window };
}

/** libzstd's default level, as the Java client's (compression.zstd.level = 3). */
const ZSTD_LEVEL = 3;
/** The WebAssembly module is instantiated once, on the first batch a process compresses. */
let encoderReady: Promise<void> | undefined;

export function zstdCodec(maxBytes: number): KafkaCodec {
  return {
    async compress(encoder) {
      encoderReady ??= initZstdEncoder();
      await encoderReady;
      const out = zstdCompress(encoder.buffer, ZSTD_LEVEL);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
    async decompress(buffer) {
      const { bound, window } = zstdExpansionBound(buffer);
      if (window > WINDOW_MAX_BYTES) {
        throw new Error(
          `zstd frame asks for a ${window}-byte window, over libzstd's limit of ${WINDOW_MAX_BYTES}`,
        );
      }
      if (bound > maxBytes) throw new DecompressedTooLargeError('zstd', maxBytes, bound);
      const out = decompress(buffer);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
  };
}
