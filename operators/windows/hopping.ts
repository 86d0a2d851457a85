import type { FixedWindows, TimeWindow } from './assigner.js';
import { parsePositiveDuration, type Duration } from './duration.js';

/**
 * Hopping windows of `size`, starting at every multiple of `advance` since the epoch; a record belongs
 * to every window that contains it (about size / advance of them). `advance` need not divide `size`
 * (windows are still well defined), but it must be in (0, size]: a larger advance would leave gaps
 * whose records belong to no window and would vanish, so it is rejected, as in Kafka Streams.
 */
export function hopping(size: Duration, advance: Duration): FixedWindows {
  const sizeMs = parsePositiveDuration(size, 'hopping window size');
  const advanceMs = parsePositiveDuration(advance, 'hopping window advance');
  if (advanceMs > sizeMs) {
    throw new RangeError(
      `hopping(${String(size)}, ${String(advance)}): advance must not exceed size (records in the gaps would belong to no window); use an advance <= size, or tumbling(size)`,
    );
  }
  return { kind: 'hopping', size: sizeMs, advance: advanceMs, describe: `hopping(${sizeMs},${advanceMs})` };
}

/** The start of the latest fixed window containing `eventTime`; earlier ones start `advance` apart. */
export const latestWindowStart = (assigner: FixedWindows, eventTime: number): number =>
  Math.floor(eventTime / assigner.advance) * assigner.advance;

/** The fixed windows containing `eventTime`, latest start first. */
export function fixedWindowsContaining(assigner: FixedWindows, eventTime: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  const lastStart = latestWindowStart(assigner, eventTime);
  for (let start = lastStart; start > eventTime - assigner.size; start -= assigner.advance) {
    windows.push({ start, end: start + assigner.size });
  }
  return windows;
}
