/**
 * The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian int, then the Avro binary
 * body. Pure functions; the checks run in the order that gives the most useful error for a bad record.
 */
import { SerdeError } from './serde-error.js';

export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

export function encodeHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return header;
}

/** Returns the schema id of a framed payload; the body starts at HEADER_SIZE. */
export function readSchemaId(payload: Buffer | null | undefined): number {
  if (!payload || payload.length === 0) {
    throw new SerdeError(
      'EMPTY_PAYLOAD',
      'empty payload: expected the Confluent wire format (magic byte 0 + schema id)',
    );
  }
  if (payload[0] !== MAGIC_BYTE) {
    throw new SerdeError(
      'BAD_MAGIC_BYTE',
      `unknown magic byte ${payload[0]} (expected 0): not written by a Confluent-format Avro serializer`,
    );
  }
  if (payload.length < HEADER_SIZE) {
    throw new SerdeError(
      'TRUNCATED_HEADER',
      `payload of ${payload.length} bytes is shorter than the ${HEADER_SIZE}-byte header (magic byte + schema id)`,
    );
  }
  return payload.readInt32BE(1);
}
