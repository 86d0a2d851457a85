import type { FixedWindows } from './assigner.js';
import { parsePositiveDuration, type Duration } from './duration.js';

/** Non-overlapping, epoch-aligned windows of `size`: each record belongs to exactly one. */
export function tumbling(size: Duration): FixedWindows {
  const sizeMs = parsePositiveDuration(size, 'tumbling window size');
  return { kind: 'tumbling', size: sizeMs, advance: sizeMs, describe: `tumbling(${sizeMs})` };
}
