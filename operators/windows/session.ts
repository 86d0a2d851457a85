import type { SessionWindows } from './assigner.js';
import { parsePositiveDuration, type Duration } from './duration.js';

/**
 * Session windows per key: records whose event times are at most `gap` ms apart (inclusive, as in
 * Kafka Streams) chain into one session [first, last + 1). A record that bridges two sessions merges
 * them, so aggregators must be mergeable. Timing (see window-engine.ts): a record is late when
 * watermark >= t + 1 + grace; a session closes at watermark >= end + gap + grace, the first moment no
 * admissible record can extend it, so a closed session is final.
 */
export function session(gap: Duration): SessionWindows {
  const gapMs = parsePositiveDuration(gap, 'session gap');
  return { kind: 'session', gap: gapMs, describe: `session(${gapMs})` };
}
