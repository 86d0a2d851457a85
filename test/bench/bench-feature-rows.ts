/**
 * Realistic feature rows for the feature-store benches: one card entity per row, ten windowed features
 * (counts, sums, means, distinct counts, a rate) with seeded values, as the card-features view produces.
 */
import { randomBytes } from 'node:crypto';
import type { FeatureViewSpec } from '../../connectors/feature-sinks/index.js';
import type { FeatureRowRecord } from '../../schemas/index.js';

export const BENCH_FEATURES = [
  'txnCount1m',
  'amountSum1m',
  'amountMean1m',
  'amountMax1m',
  'txnCount1h',
  'amountSum1h',
  'amountMean1h',
  'merchantDistinct1h',
  'countryDistinct24h',
  'declineRate24h',
] as const;

/** A view spec with a random version, so concurrent runs on a shared server never share a table. */
export function benchViewSpec(name = 'bench_card'): FeatureViewSpec {
  const version = randomBytes(4).toString('hex');
  return {
    name,
    version,
    versionNumber: parseInt(version, 16) & 0x7fffffff,
    features: Object.fromEntries(BENCH_FEATURES.map((f) => [f, 'double'])),
    ttlMs: 3_600_000,
  };
}

/** Seeded so every run writes the same bytes. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function benchFeatureValues(rand: () => number): Record<string, number> {
  const count1m = Math.floor(rand() * 5);
  const count1h = count1m + Math.floor(rand() * 40);
  const mean = Math.round(Math.exp(3 + rand() * 2) * 100) / 100;
  return {
    txnCount1m: count1m,
    amountSum1m: Math.round(count1m * mean * 100) / 100,
    amountMean1m: mean,
    amountMax1m: Math.round(mean * (1 + rand()) * 100) / 100,
    txnCount1h: count1h,
    amountSum1h: Math.round(count1h * mean * 100) / 100,
    amountMean1h: Math.round(mean * (0.8 + rand() * 0.4) * 100) / 100,
    merchantDistinct1h: 1 + Math.floor(rand() * 6),
    countryDistinct24h: 1 + Math.floor(rand() * 3),
    declineRate24h: Math.round(rand() * 0.2 * 10_000) / 10_000,
  };
}

/** `count` feature rows of one 1 min window ending at `windowEnd`, entities card-0 .. card-(count-1). */
export function benchFeatureRows(
  spec: FeatureViewSpec,
  count: number,
  windowEnd: number,
  seed = 7,
): FeatureRowRecord[] {
  const rand = lcg(seed);
  return Array.from({ length: count }, (_, i) => ({
    view: spec.name,
    viewVersion: spec.versionNumber,
    entity: `card-${i}`,
    windowStart: windowEnd - 60_000,
    windowEnd,
    eventTime: windowEnd,
    features: benchFeatureValues(rand),
  }));
}
