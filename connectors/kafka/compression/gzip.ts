/** Gzip as kafkajs ships it, with the expansion bounded by zlib itself (maxOutputLength). */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DecompressedTooLargeError, type KafkaCodec } from './limits.js';

const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);

export function gzipCodec(maxBytes: number): KafkaCodec {
  return {
    compress: (encoder) => gzip(encoder.buffer),
    async decompress(buffer) {
      try {
        return await unzip(buffer, { maxOutputLength: maxBytes });
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
          throw new DecompressedTooLargeError('gzip', maxBytes);
        }
        throw err;
      }
    },
  };
}
