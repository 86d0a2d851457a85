import type { SlidingWindows } from './assigner.js';
import { parseDuration, type Duration } from './duration.js';

/**
 * Kafka Streams sliding windows (SlidingWindows.ofTimeDifference...): a window holds records whose
 * event times differ by at most `timeDifference` ms, and windows exist only where the set of records
 * changes. With d = timeDifference, Kafka's inclusive window [s, s + d] is our [s, s + d + 1), and for
 * the records R of a key (times as a set):
 *   - every record time t has a "left" window [t - d, t + 1) ending at it;
 *   - every record time t with another record in (t, t + d] has a "right" window [t + 1, t + d + 2)
 *     (what remains when t slides out);
 *   so a window [s, s + d + 1) exists iff R has a record at s + d, or records at s - 1 and in [s, s + d].
 * Each such window is emitted once with all records in it (deduplicated by start, like Kafka).
 * Timing (see window-engine.ts): a record is late once its own left window is closed, i.e. when
 * watermark >= t + 1 + grace; a window closes at watermark >= end + grace and then contains the
 * records admitted before that moment. Unlike Kafka, starts are not clamped at 0.
 */
export function sliding(timeDifference: Duration): SlidingWindows {
  const d = parseDuration(timeDifference, 'sliding window timeDifference');
  return { kind: 'sliding', timeDifference: d, size: d + 1, describe: `sliding(${d})` };
}

/** Whether window [start, start + d + 1) exists, given lookups over the key's admitted record times. */
export function slidingWindowExists(
  assigner: SlidingWindows,
  start: number,
  hasRecordAt: (t: number) => boolean,
  hasRecordIn: (from: number, to: number) => boolean,
): boolean {
  const d = assigner.timeDifference;
  return hasRecordAt(start + d) || (hasRecordAt(start - 1) && hasRecordIn(start, start + d));
}
