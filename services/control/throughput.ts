/**
 * Throughput of topologies running in this process, from the records-in counter the topology worker keeps
 * in prom-client (sluice_records_in_total{topology,partition}). A rate needs two samples, so each call
 * samples the counter and compares with the oldest sample inside the window.
 */
import type { Registry } from 'prom-client';
import type { ThroughputSource } from './sources.js';

export interface CounterRateOptions {
  readonly registry: Registry;
  readonly metric?: string;
  /** Rates are averaged over about this long. */
  readonly windowMs?: number;
  readonly now?: () => number;
}

interface Sample {
  readonly at: number;
  readonly total: number;
}

export function counterRateThroughput(options: CounterRateOptions): ThroughputSource {
  const metric = options.metric ?? 'sluice_records_in_total';
  const windowMs = options.windowMs ?? 10_000;
  const now = options.now ?? Date.now;
  const samples = new Map<string, Sample[]>();

  return {
    async recordsPerSecond(topology) {
      const counter = options.registry.getSingleMetric(metric);
      if (!counter) return null;
      const { values } = await counter.get();
      const series = values.filter((v) => v.labels.topology === topology);
      if (series.length === 0) return null;
      const sample = { at: now(), total: series.reduce((sum, v) => sum + v.value, 0) };
      const previous = samples.get(topology) ?? [];
      const kept = previous.filter((s) => sample.at - s.at <= windowMs);
      // Polled less often than the window: the last sample is still the best baseline.
      if (kept.length === 0 && previous.length > 0) kept.push(previous[previous.length - 1]!);
      kept.push(sample);
      samples.set(topology, kept);
      const oldest = kept[0]!;
      const seconds = (sample.at - oldest.at) / 1000;
      // A counter that went down was reset (worker restart): no honest rate from this pair.
      if (seconds <= 0 || sample.total < oldest.total) return null;
      return (sample.total - oldest.total) / seconds;
    },
  };
}
