/** Percentiles of measured samples (nearest-rank on a sorted copy), for the latency figures of the benches. */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Milliseconds elapsed since a process.hrtime.bigint() reading. */
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
