/**
 * Turns one closed window of one model version into drift metrics and, when the policy says so, one
 * retrain request. Pure: the per-model state (breach streaks, last request) comes in and goes out, so the
 * stage can keep it in a changelog-backed store and a replay reaches the same results.
 */
import type { DriftBreachRecord, DriftMetricRecord, RetrainRequestRecord } from '../../schemas/index.js';
import type { BinLayout, ModelLayouts } from './bin-layout.js';
import type { DriftPolicy } from './drift-policy.js';
import type { DriftHistogram, FeatureCounts } from './histogram-aggregator.js';
import { missingRate, psi } from './psi.js';
import { driftRetrainRequest } from './retrain-request.js';

/** What the stage remembers per model version between windows. Plain JSON. */
export interface ModelDriftState {
  /** End of the last evaluated window; a streak continues only into the adjacent window. */
  readonly lastWindowEnd: number | null;
  /** target:feature:metric -> adjacent breaching windows so far. */
  readonly streaks: Readonly<Record<string, number>>;
  /** Window end of the last retrain request (event time), for the cool-down. */
  readonly lastRequestAt: number | null;
}

export const initialDriftState: ModelDriftState = { lastWindowEnd: null, streaks: {}, lastRequestAt: null };

export interface WindowEvaluation {
  readonly metrics: DriftMetricRecord[];
  readonly request: RetrainRequestRecord | null;
  readonly state: ModelDriftState;
}

/** The score's series uses this feature name (DriftMetric.avsc: "feature is then 'score'"). */
export const SCORE_FEATURE = 'score';

/** Live counts on exactly the reference's bins; bins beyond the profile (should not happen) stay visible. */
function aligned(layout: BinLayout, counts: FeatureCounts): { expected: number[]; live: number[] } {
  const size = Math.max(layout.expected.length, counts.counts.length);
  const expected = Array.from({ length: size }, (_, i) => layout.expected[i] ?? 0);
  const live = Array.from({ length: size }, (_, i) => counts.counts[i] ?? 0);
  return { expected, live };
}

export function evaluateWindow(
  window: { readonly start: number; readonly end: number; readonly value: DriftHistogram },
  layouts: ModelLayouts,
  policy: DriftPolicy,
  state: ModelDriftState,
): WindowEvaluation {
  const adjacent = state.lastWindowEnd === window.start;
  const streaks: Record<string, number> = {};
  const metrics: DriftMetricRecord[] = [];
  const h = window.value;

  const record = (
    target: DriftMetricRecord['target'],
    feature: string,
    metric: DriftMetricRecord['metric'],
    value: number,
    threshold: number | null,
    sampleSize: number,
  ) => {
    const breached = threshold !== null && sampleSize >= policy.minSamples && value > threshold;
    const key = `${target}:${feature}:${metric}`;
    const streak = breached ? (adjacent ? (state.streaks[key] ?? 0) : 0) + 1 : 0;
    if (streak > 0) streaks[key] = streak;
    metrics.push({
      model: layouts.model,
      modelVersion: layouts.modelVersion,
      target,
      feature,
      metric,
      value,
      threshold,
      sampleSize,
      breached,
      consecutiveBreaches: streak,
      windowStart: window.start,
      windowEnd: window.end,
    });
  };

  const psiOf = (
    target: DriftMetricRecord['target'],
    feature: string,
    layout: BinLayout,
    c: FeatureCounts,
  ) => {
    const { expected, live } = aligned(layout, c);
    const value = psi(expected, live, policy.epsilon);
    // No present value: PSI is undefined; the missing-rate metric tells the story.
    if (value !== null) record(target, feature, 'PSI', value, policy.psiThreshold, h.n - c.missing);
  };

  for (const [feature, layout] of layouts.features) {
    const c = h.features[feature] ?? { missing: h.n, counts: [] };
    psiOf('FEATURE', feature, layout, c);
    record('FEATURE', feature, 'MISSING_RATE', missingRate(c.missing, h.n), policy.missingRateThreshold, h.n);
  }
  if (layouts.score && h.score.counts.length > 0) psiOf('PREDICTION', SCORE_FEATURE, layouts.score, h.score);

  const breaches: DriftBreachRecord[] = metrics
    .filter((m) => m.threshold !== null && m.consecutiveBreaches >= policy.consecutiveWindows)
    .map((m) => ({ feature: m.feature, metric: m.metric, value: m.value, threshold: m.threshold! }));
  const cooled = state.lastRequestAt === null || window.end - state.lastRequestAt >= policy.cooldownMs;
  const request =
    breaches.length > 0 && cooled
      ? driftRetrainRequest(layouts.model, layouts.modelVersion, window, breaches)
      : null;
  return {
    metrics,
    request,
    state: {
      lastWindowEnd: window.end,
      streaks,
      lastRequestAt: request ? window.end : state.lastRequestAt,
    },
  };
}
