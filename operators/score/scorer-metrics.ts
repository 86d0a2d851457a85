/**
 * Prometheus metrics of a scorer. Metric objects are shared per registry (prom-client refuses a second
 * registration of a name), and every series carries the scorer's name so champion and shadow stay apart.
 */
import type { Registry } from 'prom-client';
import client from 'prom-client';
import { sharedMetric } from '../../connectors/metrics.js';

/**
 * Batch observations are buffered per scorer and written into the histograms when they are read (a scrape
 * calls each histogram's collect) or when the buffer fills: a prom-client observe costs about 0.25 µs
 * (label hashing and validation on every call), which is a tenth of a logistic regression's whole run.
 * Reads stay exact; the work moves off the scoring path rather than vanishing.
 */
const PENDING_BATCHES = 1024;
const flushersOf = new WeakMap<object, Set<() => void>>();
function flushPending(this: object): void {
  for (const flush of flushersOf.get(this) ?? []) flush();
}
function addFlusher(metric: object, flush: () => void): () => void {
  let set = flushersOf.get(metric);
  if (!set) flushersOf.set(metric, (set = new Set()));
  set.add(flush);
  return () => set.delete(flush);
}

export function scorerMetrics(registry: Registry, scorer: string) {
  const registers = [registry];
  const provider = sharedMetric(
    'sluice_scorer_execution_provider',
    () =>
      new client.Gauge({
        name: 'sluice_scorer_execution_provider',
        help: '1 for the execution provider a scorer runs on, 0 for providers it tried and could not use',
        labelNames: ['scorer', 'provider'],
        registers,
      }),
    registry,
  );
  const batchSize = sharedMetric(
    'sluice_scorer_batch_size',
    () =>
      new client.Histogram({
        name: 'sluice_scorer_batch_size',
        help: 'rows per inference run',
        labelNames: ['scorer'],
        buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
        registers,
        collect: flushPending,
      }),
    registry,
  );
  const latency = sharedMetric(
    'sluice_scorer_inference_seconds',
    () =>
      new client.Histogram({
        name: 'sluice_scorer_inference_seconds',
        help: 'wall time of one inference run (one batch)',
        labelNames: ['scorer'],
        buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
        registers,
        collect: flushPending,
      }),
    registry,
  );
  const queueDepth = sharedMetric(
    'sluice_scorer_queue_depth',
    () =>
      new client.Gauge({
        name: 'sluice_scorer_queue_depth',
        help: 'rows waiting for a batch (admitted, not yet running)',
        labelNames: ['scorer'],
        registers,
      }),
    registry,
  );
  const swaps = sharedMetric(
    'sluice_scorer_model_swaps_total',
    () =>
      new client.Counter({
        name: 'sluice_scorer_model_swaps_total',
        help: 'model swap attempts by result (swapped | refused)',
        labelNames: ['scorer', 'result'],
        registers,
      }),
    registry,
  );
  const failedBatches = sharedMetric(
    'sluice_scorer_failed_batches_total',
    () =>
      new client.Counter({
        name: 'sluice_scorer_failed_batches_total',
        help: 'inference runs that threw (their callers get the error)',
        labelNames: ['scorer'],
        registers,
      }),
    registry,
  );
  // Labelled children resolved once: a label lookup per batch is a measurable share of a cheap model's run.
  const batchSizeOf = batchSize.labels({ scorer });
  const latencyOf = latency.labels({ scorer });
  const queueDepthOf = queueDepth.labels({ scorer });
  let lastDepth: number | undefined;
  // (rows, seconds) pairs not yet in the histograms.
  const pending = new Float64Array(PENDING_BATCHES * 2);
  let pendingCount = 0;
  const flush = () => {
    for (let i = 0; i < pendingCount; i++) {
      batchSizeOf.observe(pending[2 * i]!);
      latencyOf.observe(pending[2 * i + 1]!);
    }
    pendingCount = 0;
  };
  const removers = [addFlusher(batchSize, flush), addFlusher(latency, flush)];
  return {
    setProvider(inUse: string, tried: readonly string[]) {
      for (const p of tried) provider.set({ scorer, provider: p }, p === inUse ? 1 : 0);
    },
    observeBatch(rows: number, seconds: number) {
      pending[2 * pendingCount] = rows;
      pending[2 * pendingCount + 1] = seconds;
      if (++pendingCount === PENDING_BATCHES) flush();
    },
    /** Writes what is buffered and stops following reads (the scorer closed). */
    release() {
      flush();
      for (const remove of removers) remove();
    },
    setQueueDepth(rows: number) {
      // Called on every dispatch; the gauge only changes when the depth does.
      if (rows === lastDepth) return;
      lastDepth = rows;
      queueDepthOf.set(rows);
    },
    swap: (result: 'swapped' | 'refused') => swaps.inc({ scorer, result }),
    failedBatch: () => failedBatches.inc({ scorer }),
  };
}

export type ScorerMetrics = ReturnType<typeof scorerMetrics>;
