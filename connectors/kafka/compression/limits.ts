/**
 * How much one compressed record batch may expand to. The broker checks a batch's compressed size only,
 * so a few hundred kilobytes of zeros can declare gigabytes: without a bound, one such batch takes the
 * memory of every consumer that fetches it (a compression bomb).
 */
export const DEFAULT_MAX_DECOMPRESSED_BATCH_BYTES = 64 * 1024 * 1024;

/** The batch would expand past the bound; kafkajs (patched) turns it into one record to dead-letter. */
export class DecompressedTooLargeError extends Error {
  /** `bytes`: what the batch's headers say it may expand to, where the codec can tell before decoding. */
  constructor(codec: string, limit: number, bytes?: number) {
    const bound = `the ${limit.toLocaleString('en-US')}-byte bound on a decompressed batch`;
    super(
      bytes === undefined
        ? `${codec} batch expands past ${bound}`
        : `${codec} batch may expand to ${bytes.toLocaleString('en-US')} bytes, over ${bound}`,
    );
    this.name = 'DecompressedTooLargeError';
  }
}

/** The shape kafkajs expects of a compression codec. */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
