/**
 * The in-stream scorer: score() calls from many callers are coalesced into batches of up to maxBatch rows,
 * or whatever is queued once the oldest row has waited maxDelayMs; each batch is ONE run call, and results
 * go back to each caller in its row order. The queue is bounded: a caller that would overflow it waits
 * (FIFO) until batches drain, which is how backpressure reaches the Kafka consumer.
 *
 * swap() opens, validates and probes a new model while the old one keeps serving, then switches in one
 * synchronous assignment. Each batch captures the backend when it starts, so every row is scored exactly
 * once, by the old model or the new one; the old backend is closed after its last running batch.
 */
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';
import client from 'prom-client';
import pino from 'pino';
import type { ProviderAttempt } from './execution-provider.js';
import type { ModelContract, OpenModelOptions } from './model-session.js';
import { modelId } from './model-session.js';
import { allFinite } from './feature-row.js';
import { createInlineBackend } from './inline-backend.js';
import { createWorkerPoolBackend } from './worker-pool-backend.js';
import type { ScoringBackend } from './scoring-backend.js';
import { InvalidRowError, ModelValidationError, ScorerClosedError } from './score-errors.js';
import type { ScorerMetrics } from './scorer-metrics.js';
import { scorerMetrics } from './scorer-metrics.js';
import type { SessionFactory } from './session-factory.js';
import { ortSessionFactory } from './session-factory.js';

/** A model as the registry hands it over (loadVerified): declared contract plus checked bytes. */
export interface LoadableModel {
  readonly metadata: ModelContract;
  readonly bytes: Uint8Array;
}

export interface RowScore {
  readonly score: number;
  /** name@version of the model that produced this score (changes across a hot swap). */
  readonly model: string;
}

export interface ScorerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ScorerOptions {
  /** Label for metrics and logs (e.g. 'txn-risk/champion'); defaults to the model name. */
  readonly name?: string;
  readonly maxBatch?: number;
  readonly maxDelayMs?: number;
  /** Admitted-but-not-running rows; callers beyond it wait. Default 8 x maxBatch. */
  readonly maxQueueRows?: number;
  readonly preferredProviders?: readonly string[];
  /** 'inline' runs on this thread; 'worker-pool' runs in worker_threads (heavy models). */
  readonly backend?: 'inline' | 'worker-pool';
  readonly workers?: number;
  readonly intraOpNumThreads?: number;
  /** Features the feature view supplies; a model needing others is refused. */
  readonly availableFeatures?: readonly string[];
  /** Inline backend only: how sessions are opened (tests substitute around ORT here). */
  readonly sessionFactory?: SessionFactory;
  readonly metricsRegistry?: Registry;
  readonly logger?: ScorerLogger;
}

export interface ScoreFlatOptions {
  /**
   * The caller wrote every value itself after checking it is finite and within float32 range (the score
   * stage does, as it assembles the rows): the scorer skips its own scan of the batch. Size and shape are
   * still checked. Callers handing over arrays they did not fill must leave this unset.
   */
  readonly finiteChecked?: boolean;
}

/** Scores of one scoreFlat call, in its row order. */
export interface ScoredRows {
  readonly scores: Float32Array;
  /** name@version that scored row i: one model for the whole call, unless a hot swap landed between the
   * batches its rows were split across. */
  modelOf(row: number): string; /**
   * How long the model run that scored this call took, ms (the longest one, if the call was split across
   * batches): inference time, without the time the call waited in the queue or on the event loop, so a
   * busy process does not look like a slow model to the guard rails.
   */
  readonly inferenceMs: number;
}

/** A call's result when one model scored all of it (the usual case): no per-row bookkeeping. */
class OneModelScores implements ScoredRows {
  constructor(
    readonly scores: Float32Array,
    private readonly model: string,
    readonly inferenceMs: number,
  ) {}
  modelOf(): string {
    return this.model;
  }
}

/**
 * One admitted scoreFlat call: its rows stay in the caller's flat array (no per-row objects); batches take
 * them from `next` on, possibly splitting a call across batches.
 */
class QueuedCall implements ScoredRows {
  next = 0;
  enqueuedAt = 0;
  remaining: number;
  failed = false;
  inferenceMs = 0;
  readonly scores: Float32Array;
  /** The model of the first rows settled; rows settled by another model (hot swap) are listed in `others`. */
  private model: string | undefined;
  private others: { from: number; to: number; model: string }[] | undefined;

  constructor(
    readonly values: Float32Array,
    readonly rows: number,
    readonly resolve: (r: ScoredRows) => void,
    readonly reject: (e: Error) => void,
  ) {
    this.remaining = rows;
    this.scores = new Float32Array(rows);
  }

  settle(from: number, scores: Float32Array, model: string, runMs: number): void {
    if (this.failed) return;
    this.scores.set(scores, from);
    if (runMs > this.inferenceMs) this.inferenceMs = runMs;
    if (this.model === undefined) this.model = model;
    else if (model !== this.model) (this.others ??= []).push({ from, to: from + scores.length, model });
    this.remaining -= scores.length;
    if (this.remaining === 0) this.resolve(this);
  }

  fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(err);
  }

  modelOf(row: number): string {
    if (this.others) for (const o of this.others) if (row >= o.from && row < o.to) return o.model;
    return this.model!;
  }
}

/** The rows [from, from + count) of one call that a batch carries, at row `at` of the batch. */
interface BatchPart {
  readonly call: QueuedCall;
  readonly from: number;
  readonly count: number;
  readonly at: number;
}

interface ActiveBackend {
  readonly backend: ScoringBackend;
  readonly id: string;
  inFlight: number;
  retired: boolean;
}

export class MicroBatchScorer {
  private active: ActiveBackend;
  /** Admitted calls with rows not yet in a batch; calls before `head` are done with. */
  private readonly queue: QueuedCall[] = [];
  private head = 0;
  private queued = 0;
  private readonly waiters: QueuedCall[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline: number | undefined;
  private closing = false;
  private readonly drained = new Set<() => void>();
  private swapChain: Promise<unknown> = Promise.resolve();
  private readonly metrics: ScorerMetrics;
  private readonly features: number;

  private constructor(
    backend: ScoringBackend,
    private readonly options: Required<Pick<ScorerOptions, 'maxBatch' | 'maxDelayMs' | 'maxQueueRows'>> &
      ScorerOptions,
    private readonly label: string,
    private readonly logger: ScorerLogger,
  ) {
    this.active = { backend, id: modelId(backend.contract), inFlight: 0, retired: false };
    this.features = backend.contract.features.length;
    this.metrics = scorerMetrics(options.metricsRegistry ?? client.register, label);
    this.recordProvider(backend);
  }

  static async create(model: LoadableModel, options: ScorerOptions = {}): Promise<MicroBatchScorer> {
    const maxBatch = options.maxBatch ?? 256;
    const maxDelayMs = options.maxDelayMs ?? 5;
    const maxQueueRows = options.maxQueueRows ?? maxBatch * 8;
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new Error(`maxBatch must be an integer >= 1, got ${maxBatch}`);
    if (!(maxDelayMs >= 0)) throw new Error(`maxDelayMs must be >= 0, got ${maxDelayMs}`);
    if (!Number.isInteger(maxQueueRows) || maxQueueRows < maxBatch) {
      throw new Error(`maxQueueRows must be an integer >= maxBatch (${maxBatch}), got ${maxQueueRows}`);
    }
    const resolved = { ...options, maxBatch, maxDelayMs, maxQueueRows };
    const logger = options.logger ?? pino({ name: 'sluice-scorer' });
    const label = options.name ?? model.metadata.name;
    const backend = await openBackend(model, resolved);
    return new MicroBatchScorer(backend, resolved, label, logger);
  }

  get model(): string {
    return this.active.id;
  }

  get provider(): string {
    return this.active.backend.provider;
  }

  get attempts(): readonly ProviderAttempt[] {
    return this.active.backend.attempts;
  }

  get queuedRows(): number {
    return this.queued;
  }

  /** Scores rows (each of the model's feature count, in its feature order); resolves in row order. */
  async score(rows: readonly Float32Array[]): Promise<RowScore[]> {
    if (this.closing) throw new ScorerClosedError();
    const width = this.features;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!(row instanceof Float32Array)) throw new InvalidRowError(`row ${i}: is not a Float32Array`);
      if (row.length !== width) {
        throw new InvalidRowError(
          `row ${i}: has ${row.length} values but model ${this.active.id} takes ${width} features`,
        );
      }
    }
    const flat = new Float32Array(rows.length * width);
    copyRows(rows, flat, width);
    const scored = await this.scoreFlat(flat, rows.length);
    const results = new Array<RowScore>(rows.length);
    for (let i = 0; i < rows.length; i++) results[i] = { score: scored.scores[i]!, model: scored.modelOf(i) };
    return results;
  }

  /**
   * Scores `rows` rows laid out row-major in `values` (rows x the model's feature count, in its feature
   * order): the path without per-row arrays or result objects. The scorer may read `values` until the
   * promise settles, so the caller must not change it before then.
   */
  scoreFlat(values: Float32Array, rows: number, options: ScoreFlatOptions = {}): Promise<ScoredRows> {
    if (this.closing) return Promise.reject(new ScorerClosedError());
    const problem = this.checkValues(values, rows, options.finiteChecked === true);
    if (problem) return Promise.reject(new InvalidRowError(problem));
    const a = this.active;
    // A caller that brings a whole batch to an idle scorer skips the queue: no timer, no bookkeeping.
    if (
      rows === this.options.maxBatch &&
      this.queued === 0 &&
      this.waiters.length === 0 &&
      a.inFlight < a.backend.concurrency
    ) {
      return this.runWholeBatch(a, values, rows);
    }
    if (rows === 0) return Promise.resolve(new OneModelScores(new Float32Array(0), a.id, 0));
    return new Promise<ScoredRows>((resolve, reject) => {
      const call = new QueuedCall(values, rows, resolve, reject);
      const fits = this.queued + rows <= this.options.maxQueueRows || this.queued === 0;
      if (this.waiters.length === 0 && fits) this.enqueue(call);
      else this.waiters.push(call);
    });
  }

  /**
   * Replaces the model between batches. Throws ModelValidationError (and keeps serving the current model)
   * when the new one is corrupt, mismatched, or needs other features.
   */
  swap(model: LoadableModel): Promise<void> {
    const run = async () => {
      if (this.closing) throw new ScorerClosedError();
      const current = this.active.backend.contract;
      const next = model.metadata;
      try {
        if (next.features.join('\u0000') !== current.features.join('\u0000')) {
          throw new ModelValidationError(
            'FEATURES_CHANGED',
            `model ${modelId(next)} expects features [${next.features.join(', ')}] but this scorer is fed ` +
              `[${current.features.join(', ')}]; create a new scorer for a model with a different feature list`,
          );
        }
        const backend = await openBackend(model, this.options);
        if (this.closing) {
          await backend.close();
          throw new ScorerClosedError();
        }
        const old = this.active;
        this.active = { backend, id: modelId(backend.contract), inFlight: 0, retired: false };
        old.retired = true;
        if (old.inFlight === 0) await this.closeBackend(old);
        this.metrics.swap('swapped');
        this.recordProvider(backend);
        this.logger.info({ scorer: this.label, from: old.id, to: this.active.id }, 'scorer model swapped');
        this.dispatch();
      } catch (err) {
        this.metrics.swap('refused');
        this.logger.warn(
          {
            scorer: this.label,
            refused: modelId(next),
            serving: this.active.id,
            err: (err as Error).message,
          },
          'scorer refused new model; still serving the current one',
        );
        throw err;
      }
    };
    const result = this.swapChain.then(run, run);
    this.swapChain = result.catch(() => undefined);
    return result;
  }

  /** Stops admitting calls, scores everything already admitted or waiting, then releases the model. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.swapChain;
    this.dispatch();
    if (this.queued > 0 || this.waiters.length > 0 || this.active.inFlight > 0) {
      await new Promise<void>((resolve) => this.drained.add(resolve));
    }
    if (this.timer) clearTimeout(this.timer);
    this.metrics.release();
    await this.closeBackend(this.active);
  }

  /** Undefined when values holds `rows` rows of finite numbers, else what is wrong (naming row and feature). */
  private checkValues(values: Float32Array, rows: number, finiteChecked: boolean): string | undefined {
    if (!(values instanceof Float32Array)) return 'values is not a Float32Array';
    if (!Number.isInteger(rows) || rows < 0) return `rows must be an integer >= 0, got ${rows}`;
    const width = this.features;
    if (values.length !== rows * width) {
      return (
        `${values.length} values for ${rows} row(s) but model ${this.active.id} takes ${width} features ` +
        `(expected ${rows * width})`
      );
    }
    if (finiteChecked || allFinite(values)) return undefined;
    for (let k = 0; k < values.length; k++) {
      if (!Number.isFinite(values[k])) {
        const feature = this.active.backend.contract.features[k % width];
        return `row ${Math.floor(k / width)}: value of feature ${feature} is ${values[k]} (not finite)`;
      }
    }
    return undefined;
  }

  private enqueue(call: QueuedCall): void {
    call.enqueuedAt = performance.now();
    this.queue.push(call);
    this.queued += call.rows;
    this.dispatch();
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      const fits = this.queued + next.rows <= this.options.maxQueueRows || this.queued === 0;
      if (!fits) return;
      this.waiters.shift();
      next.enqueuedAt = performance.now();
      this.queue.push(next);
      this.queued += next.rows;
    }
  }

  private dispatch(): void {
    const a = this.active;
    while (this.queued > 0 && a.inFlight < a.backend.concurrency) {
      if (this.queued < this.options.maxBatch && !this.closing) {
        const due = performance.now() - this.queue[this.head]!.enqueuedAt >= this.options.maxDelayMs;
        if (!due) break;
      }
      this.startBatch(a, Math.min(this.options.maxBatch, this.queued));
    }
    this.armTimer();
    this.metrics.setQueueDepth(this.queued);
    if (this.closing && this.queued === 0 && this.waiters.length === 0 && a.inFlight === 0) {
      for (const done of this.drained) done();
      this.drained.clear();
    }
  }

  /** One timer, for the oldest queued row's deadline; none while every run slot is busy (a finishing batch
   * dispatches anyway), so a saturated scorer does not spin on zero-delay timers. */
  private armTimer(): void {
    const slotFree = this.active.inFlight < this.active.backend.concurrency;
    const deadline =
      this.queued > 0 && slotFree ? this.queue[this.head]!.enqueuedAt + this.options.maxDelayMs : undefined;
    if (this.timer && deadline === this.timerDeadline) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDeadline = deadline;
    if (deadline === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerDeadline = undefined;
        this.dispatch();
      },
      Math.max(0, deadline - performance.now()),
    );
  }

  /** Takes n rows off the front of the queue, as parts of one or more calls. */
  private takeRows(n: number): BatchPart[] {
    const parts: BatchPart[] = [];
    let at = 0;
    while (at < n) {
      const call = this.queue[this.head]!;
      const count = Math.min(call.rows - call.next, n - at);
      parts.push({ call, from: call.next, count, at });
      call.next += count;
      at += count;
      if (call.next === call.rows) this.head++;
    }
    this.queued -= n;
    // Compact now and then so the array does not grow without bound.
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.admitWaiters();
    return parts;
  }

  private startBatch(a: ActiveBackend, n: number): void {
    const parts = this.takeRows(n);
    const width = this.features;
    const only = parts.length === 1 ? parts[0]! : undefined;
    let input: Float32Array;
    if (only && only.count === only.call.rows && a.backend.borrowsInput) input = only.call.values;
    else {
      input = new Float32Array(n * width);
      for (const p of parts) {
        input.set(p.call.values.subarray(p.from * width, (p.from + p.count) * width), p.at * width);
      }
    }
    a.inFlight++;
    const started = performance.now();
    a.backend.run(input, n).then(
      (scores) => {
        const runMs = performance.now() - started;
        this.metrics.observeBatch(n, runMs / 1000);
        for (const p of parts) p.call.settle(p.from, scores.subarray(p.at, p.at + p.count), a.id, runMs);
        this.finishBatch(a);
      },
      (err: Error) => {
        this.batchFailed(a, n, err);
        for (const p of parts) p.call.fail(err);
        this.finishBatch(a);
      },
    );
  }

  private runWholeBatch(a: ActiveBackend, values: Float32Array, n: number): Promise<ScoredRows> {
    // An inline backend only reads the input during run; a worker pool transfers it away, so it gets a copy.
    const input = a.backend.borrowsInput ? values : values.slice();
    a.inFlight++;
    const started = performance.now();
    return a.backend.run(input, n).then(
      (scores) => {
        const runMs = performance.now() - started;
        this.metrics.observeBatch(n, runMs / 1000);
        this.finishBatch(a);
        return new OneModelScores(scores, a.id, runMs);
      },
      (err: Error) => {
        this.batchFailed(a, n, err);
        this.finishBatch(a);
        throw err;
      },
    );
  }

  private batchFailed(a: ActiveBackend, rows: number, err: Error): void {
    this.metrics.failedBatch();
    this.logger.error({ scorer: this.label, model: a.id, rows, err: err.message }, 'scoring batch failed');
  }

  private finishBatch(a: ActiveBackend): void {
    a.inFlight--;
    if (a.retired && a.inFlight === 0) void this.closeBackend(a);
    // Nothing waits and no timer is armed (the whole-batch path): dispatch would find nothing to do.
    if (this.queued === 0 && this.waiters.length === 0 && this.timer === undefined && !this.closing) return;
    this.dispatch();
  }

  private async closeBackend(a: ActiveBackend): Promise<void> {
    try {
      await a.backend.close();
    } catch (err) {
      this.logger.warn(
        { scorer: this.label, model: a.id, err: (err as Error).message },
        'closing a model failed',
      );
    }
  }

  private recordProvider(backend: ScoringBackend): void {
    this.metrics.setProvider(
      backend.provider,
      backend.attempts.map((t) => t.provider),
    );
    this.logger.info(
      {
        scorer: this.label,
        model: modelId(backend.contract),
        provider: backend.provider,
        attempts: backend.attempts,
      },
      `scorer using execution provider ${backend.provider}`,
    );
  }
}

/** A plain loop: TypedArray.set costs ~100 ns per call, which dominates for rows of a few features. */
function copyRows(rows: readonly Float32Array[], into: Float32Array, width: number): void {
  let o = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let j = 0; j < width; j++) into[o++] = row[j]!;
  }
}

function openBackend(model: LoadableModel, options: ScorerOptions): Promise<ScoringBackend> {
  const contract = model.metadata;
  const preferredProviders = options.preferredProviders ?? ['cuda', 'cpu'];
  if (options.backend === 'worker-pool') {
    return createWorkerPoolBackend(model.bytes, contract, {
      workers: options.workers ?? 2,
      intraOpNumThreads: options.intraOpNumThreads,
      preferredProviders,
      availableFeatures: options.availableFeatures,
    });
  }
  const open: OpenModelOptions = {
    preferredProviders,
    sessionFactory:
      options.sessionFactory ?? ortSessionFactory({ intraOpNumThreads: options.intraOpNumThreads }),
    availableFeatures: options.availableFeatures,
  };
  return createInlineBackend(model.bytes, contract, open);
}
