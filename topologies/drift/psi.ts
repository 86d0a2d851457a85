/**
 * Population stability index of a live histogram against a reference distribution:
 *
 *   PSI = sum_i (a_i - e_i) * ln(a_i / e_i)
 *
 * where e_i is the reference fraction of bin i and a_i the live fraction. An empty bin on either side
 * would make the log infinite, so each fraction is floored at `epsilon` (the usual fix; without it one
 * unseen category turns the whole metric into Infinity). Rules of thumb: < 0.1 stable, 0.1-0.2 moderate,
 * > 0.2 a significant shift.
 */

/** Floor for empty bins; small enough not to matter for populated ones, large enough to stay finite. */
export const DEFAULT_PSI_EPSILON = 1e-4;

export class DriftMathError extends Error {
  override readonly name = 'DriftMathError';
}

/**
 * PSI of `counts` (live counts per bin) against `expected` (reference fractions per bin, summing to ~1).
 * Both must have the same length. Returns null when the live histogram is empty: PSI is undefined then.
 */
export function psi(
  expected: readonly number[],
  counts: readonly number[],
  epsilon = DEFAULT_PSI_EPSILON,
): number | null {
  if (expected.length !== counts.length) {
    throw new DriftMathError(
      `psi: ${expected.length} reference bins but ${counts.length} live bins; bin live values on the profile's edges`,
    );
  }
  if (!(epsilon > 0 && epsilon < 1))
    throw new DriftMathError(`psi: epsilon must be in (0, 1), got ${epsilon}`);
  let total = 0;
  for (const c of counts) {
    if (!Number.isFinite(c) || c < 0) throw new DriftMathError(`psi: bin counts must be >= 0, got ${c}`);
    total += c;
  }
  if (total === 0) return null;
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = Math.max(expected[i]!, epsilon);
    const a = Math.max(counts[i]! / total, epsilon);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** Fraction of records whose value was missing; 0 for an empty window. */
export function missingRate(missing: number, total: number): number {
  if (!(total > 0)) return 0;
  if (missing < 0 || missing > total) {
    throw new DriftMathError(`missingRate: ${missing} missing out of ${total} records is impossible`);
  }
  return missing / total;
}
