/**
 * Window aggregate of drift samples: per feature, how many values fell into each reference bin and how
 * many were missing. The samples are already binned, so the aggregate knows nothing about profiles and
 * its state is a few small integer arrays per window (plain JSON, as changelog-backed state must be).
 */
import type { Aggregator } from '../../operators/aggregate/index.js';
import { MISSING_BIN } from './bin-layout.js';
import type { DriftSample } from './drift-sample.js';

/** Slot 0 counts missing values; slot i + 1 counts bin i. Arrays grow to the highest bin seen. */
type Slots = number[];

interface HistogramInput {
  readonly b: Readonly<Record<string, number>>;
  readonly s: number | null;
}

interface HistogramAcc {
  n: number;
  f: Record<string, Slots>;
  s: Slots;
}

export interface FeatureCounts {
  readonly missing: number;
  /** Count per bin index; may be shorter than the profile's bins (trailing bins were empty). */
  readonly counts: readonly number[];
}

export interface DriftHistogram {
  /** Samples in the window. */
  readonly n: number;
  readonly features: Readonly<Record<string, FeatureCounts>>;
  /** Score bins; counts is empty when the model has no prediction profile. */
  readonly score: FeatureCounts;
}

function bump(slots: Slots, bin: number): void {
  const i = bin === MISSING_BIN ? 0 : bin + 1;
  while (slots.length <= i) slots.push(0);
  slots[i]! += 1;
}

function addSlots(a: Slots, b: Slots): Slots {
  for (let i = 0; i < b.length; i++) a[i] = (a[i] ?? 0) + b[i]!;
  return a;
}

const countsOf = (slots: Slots): FeatureCounts => ({ missing: slots[0] ?? 0, counts: slots.slice(1) });

export const driftHistogram = (): Aggregator<DriftSample, HistogramInput, HistogramAcc, DriftHistogram> => ({
  describe: 'driftHistogram.v1',
  prepare: (sample) => ({ b: sample.bins, s: sample.score }),
  init: () => ({ n: 0, f: {}, s: [] }),
  add(acc, input) {
    acc.n += 1;
    for (const [name, bin] of Object.entries(input.b)) bump((acc.f[name] ??= []), bin);
    if (input.s !== null) bump(acc.s, input.s);
    return acc;
  },
  merge(a, b) {
    a.n += b.n;
    for (const [name, slots] of Object.entries(b.f)) a.f[name] = addSlots(a.f[name] ?? [], slots);
    a.s = addSlots(a.s, b.s);
    return a;
  },
  result: (acc) => ({
    n: acc.n,
    features: Object.fromEntries(Object.entries(acc.f).map(([name, slots]) => [name, countsOf(slots)])),
    score: countsOf(acc.s),
  }),
});
