/**
 * The one binning rule shared by the trainer (building a reference profile) and drift detection (binning
 * live values): bin i holds v with edges[i-1] < v <= edges[i]; below the first edge is bin 0, above the last
 * is bin edges.length. Keeping it in one place means training and serving can never bin differently.
 */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Category key for a categorical value (codes are stored as strings so JSON keys round-trip). */
export const categoryKey = (value: number | string): string => String(value);
