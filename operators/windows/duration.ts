/** A duration: milliseconds as a number, or a string such as '500ms', '10s', '1m', '1h', '1d', '1h30m'. */
export type Duration = number | string;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const HINT = "use milliseconds (e.g. 1500) or a string like '500ms', '10s', '1m', '1h', '1d', '1h30m'";

/**
 * Parse a duration to whole milliseconds. `what` names the option in error messages (e.g. 'grace').
 * Throws a RangeError naming the option and the accepted forms for anything else: negative or
 * fractional milliseconds, unknown units, empty strings, non-finite numbers.
 */
export function parseDuration(input: Duration, what = 'duration'): number {
  let ms: number;
  if (typeof input === 'number') {
    ms = input;
  } else if (typeof input === 'string') {
    const compact = input.trim().replace(/\s+/g, '');
    if (!WHOLE.test(compact)) throw new RangeError(`Invalid ${what} ${JSON.stringify(input)}: ${HINT}`);
    ms = 0;
    for (const [, amount, unit] of compact.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit!]!;
    ms = Math.round(ms * 1e6) / 1e6; // '0.1s' is 100ms despite binary floating point
  } else {
    throw new TypeError(`Invalid ${what} (${typeof input}): ${HINT}`);
  }
  if (!Number.isFinite(ms) || ms < 0 || !Number.isSafeInteger(ms)) {
    throw new RangeError(
      `Invalid ${what} ${JSON.stringify(input)}: must be a whole, non-negative number of ms; ${HINT}`,
    );
  }
  return ms;
}

/** parseDuration for sizes and gaps, which must be at least 1 ms. */
export function parsePositiveDuration(input: Duration, what: string): number {
  const ms = parseDuration(input, what);
  if (ms === 0) throw new RangeError(`Invalid ${what} ${JSON.stringify(input)}: must be at least 1ms`);
  return ms;
}
