import { createHash } from 'node:crypto';
import type { SourcePosition } from '../../schemas/stream.js';

/**
 * Deterministic id of one prediction: the source event's Kafka position plus the slot (variant or shadow)
 * that scored it. A replay after a crash produces the same id, so the idempotent sinks keep one row.
 */
export function predictionId(source: SourcePosition, slot: string): string {
  return createHash('sha256')
    .update(`${source.topic}\u0000${source.partition}\u0000${source.offset}\u0000${slot}`)
    .digest('hex')
    .slice(0, 32);
}
