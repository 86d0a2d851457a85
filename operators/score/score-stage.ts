/**
 * Score: each enriched record is routed (served variant + shadows), scored by every slot's
 * MicroBatchScorer, and turned into prediction records: one served (shadow=false) and one per shadow
 * (shadow=true, logged only). Records are grouped per micro-batch so each slot gets one score() call per
 * group, and the scorer coalesces groups from every partition into large ONNX runs. Order and barriers
 * are kept by microBatchStage.
 *
 * Failures never stop the partition: a record whose served score fails goes to the dead-letter topic with
 * the reason; a failing shadow is counted (guard rails see it) and its prediction skipped, since shadows
 * must never affect what is served.
 */
import type { Prediction } from '../../connectors/experiments/prediction.js';
import type { PartitionContext, Stage, StreamRecord } from '../../schemas/stream.js';
import type { Enriched } from '../enrich/enrich.js';
import { microBatchStage } from '../enrich/micro-batch-stage.js';
import { rawOf } from '../raw-of.js';
import type { RecordOutcome } from '../record-stage.js';
import type { Route, Router } from '../route/router.js';
import type { MicroBatchScorer } from './micro-batch-scorer.js';
import { predictionId } from './prediction-id.js';
import { InvalidRowError, MissingFeatureError } from './score-errors.js';
import type { VariantMonitor } from './variant-monitor.js';

/** What the stage needs from ModelSlots. */
export interface SlotScorers {
  scorer(slot: string): MicroBatchScorer;
  features(slot: string): readonly string[];
}

/** What one micro-batch routes and scores with: one experiment version, never mixed within a batch. */
export interface ServingState {
  readonly router: Router;
  readonly slots: SlotScorers;
}

/** A state held by one micro-batch; release() tells the owner the batch no longer reads it. */
export interface ServingLease {
  readonly state: ServingState;
  release(): void;
}

/** Hands out the current serving state; the owner may switch it between batches (experiment reload). */
export interface ServingSource {
  acquire(): ServingLease;
}

export interface ScoreStageOptions<T> {
  /** A fixed router + slots, or `serving` for a state that can change between micro-batches. */
  readonly router?: Router;
  readonly slots?: SlotScorers;
  readonly serving?: ServingSource;
  /** Id of the scored event (e.g. txnId); labels join on it. */
  readonly eventId: (event: T) => string;
  readonly monitor?: VariantMonitor;
  readonly maxBatch?: number;
  readonly maxDelayMs?: number;
  readonly onShadowError?: (slot: string, err: Error) => void;
}

interface Task {
  readonly slot: string;
  readonly shadow: boolean;
  readonly indices: number[];
}

interface SlotResult {
  score: number;
  model: string;
  latencyMs: number;
  features: Record<string, number>;
}

const splitModelId = (id: string): [string, string] => {
  const at = id.lastIndexOf('@');
  return [id.slice(0, at), id.slice(at + 1)];
};

function errorReason(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; name?: string; message?: string };
  const code =
    e?.name === 'MissingFeatureError'
      ? 'MISSING_FEATURE'
      : e?.name === 'InvalidRowError'
        ? 'INVALID_FEATURE_VALUE'
        : String(e?.code ?? 'SCORING_ERROR');
  return { code, message: e?.message ?? String(err) };
}

/** The largest finite float32: a larger double becomes Infinity in the model's input tensor. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Writes one record's features, in the model's order, at values[offset...]; returns why the row cannot be
 * scored (a missing or non-numeric feature: the enrich stage fills every feature it serves, so a gap means
 * the feature view lacks it; or a value no float32 holds), or undefined. Every value written is finite in
 * float32, which is what lets the scorer skip its own scan (scoreFlat's finiteChecked).
 */
function writeRow(
  features: Readonly<Record<string, number>>,
  order: readonly string[],
  values: Float32Array,
  offset: number,
): Error | undefined {
  let missing: string[] | undefined;
  for (let j = 0; j < order.length; j++) {
    const v = features[order[j]!];
    // NaN fails both comparisons, so it lands with the missing ones.
    if (typeof v === 'number' && v <= FLOAT32_MAX && v >= -FLOAT32_MAX) values[offset + j] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) {
      return new InvalidRowError(
        `value of feature ${order[j]} is ${v}, outside the float32 range of the model input`,
      );
    } else (missing ??= []).push(order[j]!);
  }
  return missing ? new MissingFeatureError(missing) : undefined;
}

function servingOf<T>(options: ScoreStageOptions<T>): ServingSource {
  if (options.serving) return options.serving;
  const { router, slots } = options;
  if (!router || !slots) {
    throw new Error(
      'score() needs `serving`, or both `router` and `slots`; pass createRouter(...) and ModelSlots',
    );
  }
  const lease: ServingLease = { state: { router, slots }, release() {} };
  return { acquire: () => lease };
}

export function score<T>(options: ScoreStageOptions<T>): Stage<Enriched<T>, Prediction> {
  const { monitor } = options;
  const serving = servingOf(options);
  const eventIdOf = (event: T): string => {
    try {
      return String(options.eventId(event) ?? '');
    } catch {
      return ''; // an event without an id is still scored; it just cannot be joined to a label
    }
  };

  /** Scores the given records with one slot; failures are per record (the rest still get scores). */
  async function runTask(
    slots: SlotScorers,
    task: Task,
    records: readonly StreamRecord<Enriched<T>>[],
  ): Promise<Map<number, SlotResult | Error>> {
    const out = new Map<number, SlotResult | Error>();
    // Read scorer and feature order together, synchronously: a slot replaced later cannot mix them.
    const scorer = slots.scorer(task.slot);
    const order = slots.features(task.slot);
    // Feature values go straight into one row-major array (no per-row arrays): the scorer's flat API.
    const width = order.length;
    const values = new Float32Array(task.indices.length * width);
    const rowOf: number[] = [];
    for (const i of task.indices) {
      const problem = writeRow(records[i]!.value.features, order, values, rowOf.length * width);
      if (problem) out.set(i, problem);
      else rowOf.push(i);
    }
    const used = (i: number) => Object.fromEntries(order.map((f) => [f, records[i]!.value.features[f]!]));
    try {
      const scored = await scorer.scoreFlat(values.subarray(0, rowOf.length * width), rowOf.length, {
        finiteChecked: true,
      });
      const latencyMs = scored.inferenceMs;
      rowOf.forEach((i, j) =>
        out.set(i, { score: scored.scores[j]!, model: scored.modelOf(j), latencyMs, features: used(i) }),
      );
    } catch {
      // One bad row fails the whole call: score rows one by one so only the bad ones are lost.
      await Promise.all(
        rowOf.map(async (i, j) => {
          try {
            const s = await scorer.scoreFlat(values.subarray(j * width, (j + 1) * width), 1, {
              finiteChecked: true,
            });
            out.set(i, {
              score: s.scores[0]!,
              model: s.modelOf(0),
              latencyMs: s.inferenceMs,
              features: used(i),
            });
          } catch (err) {
            out.set(i, err as Error);
          }
        }),
      );
    }
    for (const [, r] of out)
      monitor?.observe(task.slot, r instanceof Error ? 0 : r.latencyMs, !(r instanceof Error));
    return out;
  }

  const make = (ctx: PartitionContext) => async (records: readonly StreamRecord<Enriched<T>>[]) => {
    // Router and slots are read once, together, for the whole batch, and held until it is scored.
    const lease = serving.acquire();
    try {
      return await scoreBatch(ctx, lease.state, records);
    } finally {
      lease.release();
    }
  };

  async function scoreBatch(
    ctx: PartitionContext,
    { router, slots }: ServingState,
    records: readonly StreamRecord<Enriched<T>>[],
  ): Promise<RecordOutcome<Prediction>[]> {
    const routes: Route[] = records.map((r) => router.route(r.value.entity));
    const tasks = new Map<string, Task>();
    const add = (slot: string, shadow: boolean, i: number) => {
      let t = tasks.get(slot);
      if (!t) tasks.set(slot, (t = { slot, shadow, indices: [] }));
      t.indices.push(i);
    };
    routes.forEach((route, i) => {
      add(route.served.name, false, i);
      for (const s of route.shadows) add(s.name, true, i);
    });
    const results = new Map<string, Map<number, SlotResult | Error>>();
    await Promise.all(
      [...tasks.values()].map(async (task) => results.set(task.slot, await runTask(slots, task, records))),
    );

    return records.map((record, i): RecordOutcome<Prediction> => {
      const route = routes[i]!;
      const served = results.get(route.served.name)?.get(i);
      if (served === undefined || served instanceof Error) {
        ctx.side.deadLetter(rawOf(ctx, record), errorReason(served ?? new Error('not scored')));
        return null;
      }
      const make = (slot: string, shadow: boolean, r: SlotResult): StreamRecord<Prediction> => {
        const [model, modelVersion] = splitModelId(r.model);
        return {
          ...record,
          key: record.value.entity,
          value: {
            predictionId: predictionId(record.source, slot),
            eventId: eventIdOf(record.value.event),
            entity: record.value.entity,
            eventTime: record.eventTime,
            model,
            modelVersion,
            variant: slot,
            experiment: route.experiment,
            experimentVersion: route.experimentVersion,
            shadow,
            score: r.score,
            latencyMs: r.latencyMs,
            features: r.features,
            sourceTopic: record.source.topic,
            sourcePartition: record.source.partition,
            sourceOffset: Number(record.source.offset),
          },
        };
      };
      const out = [make(route.served.name, false, served)];
      for (const s of route.shadows) {
        const r = results.get(s.name)?.get(i);
        if (r === undefined) continue;
        if (r instanceof Error) options.onShadowError?.(s.name, r);
        else out.push(make(s.name, true, r));
      }
      return out;
    });
  }

  return microBatchStage(make, { maxBatch: options.maxBatch ?? 256, maxDelayMs: options.maxDelayMs ?? 2 });
}
