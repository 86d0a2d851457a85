/**
 * The record patched kafkajs hands over in place of a batch it could not decompress: at the batch's last
 * offset, with the compressed bytes as its value. The consumer dead-letters it and moves on, so one bad
 * batch neither fails every fetch of its partition nor vanishes.
 */
import type { KafkaMessage } from 'kafkajs';
import type { DeadLetterReason } from '../../../schemas/stream.js';

interface DecompressError {
  readonly message: string;
  /** The batch's first offset (the record itself sits at its last). */
  readonly firstOffset: string;
  /** How many records the batch declares. */
  readonly records: number;
}

export const UNDECOMPRESSABLE_BATCH = 'UNDECOMPRESSABLE_BATCH';

/** The dead-letter reason if `message` stands for a batch that could not be decompressed. */
export function undecompressableBatchReason(message: KafkaMessage): DeadLetterReason | undefined {
  const error = (message as { decompressError?: DecompressError }).decompressError;
  if (error === undefined) return undefined;
  return {
    code: UNDECOMPRESSABLE_BATCH,
    message:
      `a compressed batch of ${error.records} records at offsets ${error.firstOffset}-${message.offset} ` +
      `could not be decompressed (${error.message}); the value is the batch's compressed records`,
  };
}
