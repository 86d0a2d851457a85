/**
 * What MicroBatchScorer adds to ONNX Runtime: the same 256-row batch scored by the scorer (inline and
 * worker-pool backends) and by a bare session.run on a prebuilt tensor of the same rows, same model, same
 * session options, in the same process. Runs are interleaved so load drift hits both sides alike.
 *
 * By default ('stage') the scorer is called the way the score stage calls it: scoreFlat on one row-major
 * Float32Array that the stage filled after checking every value (finiteChecked), so the scorer checks
 * only size and shape. 'flat' is the same call from a caller that did not check (the scorer scans every
 * value); 'rows' is score() on per-row arrays, the older API kept for other callers.
 */
import * as ort from 'onnxruntime-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { MicroBatchScorer, type LoadableModel } from '../../operators/score/micro-batch-scorer.js';
import { generateTxnRiskData } from '../../services/trainer/synthetic-data.js';
import { msSince, percentile } from './latency-stats.js';

export interface OverheadFigures {
  readonly model: string;
  readonly backend: 'inline' | 'worker-pool';
  readonly api: ScorerApi;
  readonly provider: string;
  readonly batch: number;
  readonly iterations: number;
  /** Per-batch wall time, ms. */
  readonly scorerP50: number;
  readonly bareP50: number;
  readonly scorerP99: number;
  readonly bareP99: number;
}

/** Rows of the model's features from the seeded synthetic data (real value ranges, no NaN). */
function sampleRows(features: readonly string[], batch: number): Float32Array[] {
  const data = generateTxnRiskData({ rows: batch, seed: 3 });
  const columns = features.map((f) => {
    const j = data.featureNames.indexOf(f);
    if (j < 0) throw new Error(`synthetic data has no feature ${f}`);
    return j;
  });
  const width = data.featureNames.length;
  return Array.from({ length: batch }, (_, i) => Float32Array.from(columns, (j) => data.x[i * width + j]!));
}

/** The session the scorer's own factory opens (cpu, 1 intra-op and 1 inter-op thread, all optimisations). */
function bareSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
}

export type ScorerApi = 'stage' | 'flat' | 'rows';

/** Unmeasured calls of each path before the measured ones. */
export const WARM_UP_ITERATIONS = 3000;

export async function measureScorerOverhead(
  model: LoadableModel,
  backend: 'inline' | 'worker-pool',
  batch: number,
  iterations: number,
  api: ScorerApi = 'stage',
): Promise<OverheadFigures> {
  const { features, inputName, outputName } = model.metadata;
  const rows = sampleRows(features, batch);
  const flat = new Float32Array(batch * features.length);
  rows.forEach((r, i) => flat.set(r, i * features.length));
  const tensor = new ort.Tensor('float32', flat, [batch, features.length]);
  const session = await bareSession(model.bytes);
  const scorer = await MicroBatchScorer.create(model, {
    name: `bench-${backend}`,
    backend,
    maxBatch: batch,
    maxDelayMs: 5,
    preferredProviders: ['cpu'],
    metricsRegistry: new Registry(),
    logger: pino({ level: 'error' }),
  });
  const viaScorer: number[] = [];
  const viaBare: number[] = [];
  try {
    // Long enough for V8 to finish optimizing both paths: with 200 the first model measured in a process
    // (the scorer path tiers up later than the bare call) read 1.09-1.13 where later ones read 1.02-1.05.
    const warmUp = WARM_UP_ITERATIONS;
    for (let i = -warmUp; i < iterations; i++) {
      const order = i % 2 === 0 ? ['scorer', 'bare'] : ['bare', 'scorer'];
      for (const which of order) {
        const start = process.hrtime.bigint();
        if (which === 'scorer') {
          const n =
            api === 'rows'
              ? (await scorer.score(rows)).length
              : (await scorer.scoreFlat(flat, batch, { finiteChecked: api === 'stage' })).scores.length;
          if (n !== batch) throw new Error(`scorer returned ${n} scores`);
        } else {
          const out = await session.run({ [inputName]: tensor }, [outputName]);
          if (out[outputName]?.data.length !== batch) throw new Error('bare run returned a wrong shape');
        }
        if (i >= 0) (which === 'scorer' ? viaScorer : viaBare).push(msSince(start));
      }
    }
    return {
      model: `${model.metadata.name}@${model.metadata.version}`,
      backend,
      api,
      provider: scorer.provider,
      batch,
      iterations,
      scorerP50: percentile(viaScorer, 50),
      bareP50: percentile(viaBare, 50),
      scorerP99: percentile(viaScorer, 99),
      bareP99: percentile(viaBare, 99),
    };
  } finally {
    await scorer.close();
    await session.release();
  }
}
