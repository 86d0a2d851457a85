/**
 * Every compression codec Kafka defines, registered with kafkajs, which ships gzip only: a batch that
 * another client wrote with snappy, lz4 or zstd (the Java client's usual choices) otherwise failed every
 * fetch of its partition with "not implemented". Each codec bounds how far a batch may expand.
 */
import kafkajs from 'kafkajs';
import { gzipCodec } from './gzip.js';
import { DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES } from './limits.js';
import { lz4Codec } from './lz4.js';
import { snappyCodec } from './snappy.js';
import { zstdCodec } from './zstd.js';

// kafkajs is CommonJS, and Node's named-export detection misses these two.
const { CompressionCodecs, CompressionTypes } = kafkajs;

export { DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES, DecompressedTooLargeError } from './limits.js';

/** Process-wide, as kafkajs' codec table is. */
export function registerCompressionCodecs(
  maxDecompressedBatchBytes = DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES,
): void {
  if (!Number.isSafeInteger(maxDecompressedBatchBytes) || maxDecompressedBatchBytes <= 0) {
    throw new Error(
      `maxDecompressedBatchBytes must be a positive whole number of bytes, got ${maxDecompressedBatchBytes}`,
    );
  }
  const codecs = {
    [CompressionTypes.GZIP]: gzipCodec(maxDecompressedBatchBytes),
    [CompressionTypes.Snappy]: snappyCodec(maxDecompressedBatchBytes),
    [CompressionTypes.LZ4]: lz4Codec(maxDecompressedBatchBytes),
    [CompressionTypes.ZSTD]: zstdCodec(maxDecompressedBatchBytes),
  };
  for (const [type, codec] of Object.entries(codecs)) {
    (CompressionCodecs as Record<string, () => unknown>)[type] = () => codec;
  }
}
