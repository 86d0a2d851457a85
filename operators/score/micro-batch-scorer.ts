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

interface Call {
  readonly results: RowScore[];
  remaining: number;
  failed: boolean;
  readonly resolve: (r: RowScore[]) => void;
  readonly reject: (e: Error) => void;
}

interface QueuedRow {
  readonly row: Float32Array;
  readonly call: Call;
  readonly index: number;
  readonly enqueuedAt: number;
}

interface Waiter {
  readonly rows: Float32Array[];
  readonly call: Call;
}

interface ActiveBackend {
  readonly backend: ScoringBackend;
  readonly id: string;
  inFlight: number;
  retired: boolean;
}

export class MicroBatchScorer {
  private active: ActiveBackend;
  private readonly queue: QueuedRow[] = [];
  private head = 0;
  private readonly waiters: Waiter[] = [];
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
    return this.queue.length - this.head;
  }

  /** Scores rows (each of the model's feature count, in its feature order); resolves in row order. */
  score(rows: readonly Float32Array[]): Promise<RowScore[]> {
    if (this.closing) return Promise.reject(new ScorerClosedError());
    for (let i = 0; i < rows.length; i++) {
      const problem = this.checkRow(rows[i]);
      if (problem) return Promise.reject(new InvalidRowError(`row ${i}: ${problem}`));
    }
    if (rows.length === 0) return Promise.resolve([]);
    const a = this.active;
    // A caller that brings a whole batch to an idle scorer skips the row queue: no per-row bookkeeping.
    if (
      rows.length === this.options.maxBatch &&
      this.queuedRows === 0 &&
      this.waiters.length === 0 &&
      a.inFlight < a.backend.concurrency
    ) {
      return this.runWholeBatch(a, rows);
    }
    return new Promise<RowScore[]>((resolve, reject) => {
      const call: Call = {
        results: new Array(rows.length),
        remaining: rows.length,
        failed: false,
        resolve,
        reject,
      };
      const fits = this.queuedRows + rows.length <= this.options.maxQueueRows || this.queuedRows === 0;
      if (this.waiters.length === 0 && fits) this.enqueue(rows, call);
      else this.waiters.push({ rows: [...rows], call });
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
    if (this.queuedRows > 0 || this.waiters.length > 0 || this.active.inFlight > 0) {
      await new Promise<void>((resolve) => this.drained.add(resolve));
    }
    if (this.timer) clearTimeout(this.timer);
    await this.closeBackend(this.active);
  }

  private checkRow(row: Float32Array | undefined): string | undefined {
    if (!(row instanceof Float32Array)) return 'is not a Float32Array';
    const width = this.features;
    if (row.length !== width) {
      return `has ${row.length} values but model ${this.active.id} takes ${width} features`;
    }
    // x - x is 0 for every finite number and NaN for NaN and ±Infinity: one branch-free test per value.
    let sum = 0;
    for (let j = 0; j < width; j++) sum += row[j]! - row[j]!;
    if (sum === 0) return undefined;
    for (let j = 0; j < width; j++) {
      if (!Number.isFinite(row[j])) {
        return `value of feature ${this.active.backend.contract.features[j]} is ${row[j]} (not finite)`;
      }
    }
    return undefined;
  }

  private enqueue(rows: readonly Float32Array[], call: Call): void {
    const now = performance.now();
    rows.forEach((row, index) => this.queue.push({ row, call, index, enqueuedAt: now }));
    this.metrics.setQueueDepth(this.queuedRows);
    this.dispatch();
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      const fits = this.queuedRows + next.rows.length <= this.options.maxQueueRows || this.queuedRows === 0;
      if (!fits) return;
      this.waiters.shift();
      const now = performance.now();
      next.rows.forEach((row, index) => this.queue.push({ row, call: next.call, index, enqueuedAt: now }));
    }
  }

  private dispatch(): void {
    const a = this.active;
    while (this.queuedRows > 0 && a.inFlight < a.backend.concurrency) {
      const oldest = this.queue[this.head]!;
      const due = performance.now() - oldest.enqueuedAt >= this.options.maxDelayMs;
      if (this.queuedRows < this.options.maxBatch && !due && !this.closing) break;
      this.startBatch(a, Math.min(this.options.maxBatch, this.queuedRows));
    }
    this.armTimer();
    this.metrics.setQueueDepth(this.queuedRows);
    if (this.closing && this.queuedRows === 0 && this.waiters.length === 0 && a.inFlight === 0) {
      for (const done of this.drained) done();
      this.drained.clear();
    }
  }

  /** One timer, for the oldest queued row's deadline; none while every run slot is busy (a finishing batch
   * dispatches anyway), so a saturated scorer does not spin on zero-delay timers. */
  private armTimer(): void {
    const slotFree = this.active.inFlight < this.active.backend.concurrency;
    const deadline =
      this.queuedRows > 0 && slotFree
        ? this.queue[this.head]!.enqueuedAt + this.options.maxDelayMs
        : undefined;
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

  private takeRows(n: number): QueuedRow[] {
    const batch = this.queue.slice(this.head, this.head + n);
    this.head += n;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.admitWaiters();
    return batch;
  }

  private startBatch(a: ActiveBackend, n: number): void {
    const batch = this.takeRows(n);
    const input = new Float32Array(n * this.features);
    copyRows(
      batch.map((q) => q.row),
      input,
      this.features,
    );
    a.inFlight++;
    const started = performance.now();
    a.backend.run(input, n).then(
      (scores) => {
        this.metrics.observeBatch(n, (performance.now() - started) / 1000);
        batch.forEach((q, i) => this.settleRow(q, { score: scores[i]!, model: a.id }));
        this.finishBatch(a);
      },
      (err: Error) => {
        this.metrics.failedBatch();
        this.logger.error(
          { scorer: this.label, model: a.id, rows: n, err: err.message },
          'scoring batch failed',
        );
        for (const q of batch) this.failRow(q, err);
        this.finishBatch(a);
      },
    );
  }

  private async runWholeBatch(a: ActiveBackend, rows: readonly Float32Array[]): Promise<RowScore[]> {
    const n = rows.length;
    const input = new Float32Array(n * this.features);
    copyRows(rows, input, this.features);
    a.inFlight++;
    const started = performance.now();
    try {
      const scores = await a.backend.run(input, n);
      this.metrics.observeBatch(n, (performance.now() - started) / 1000);
      const results = new Array<RowScore>(n);
      for (let i = 0; i < n; i++) results[i] = { score: scores[i]!, model: a.id };
      return results;
    } catch (err) {
      this.metrics.failedBatch();
      this.logger.error(
        { scorer: this.label, model: a.id, rows: n, err: (err as Error).message },
        'scoring batch failed',
      );
      throw err;
    } finally {
      this.finishBatch(a);
    }
  }

  private settleRow(q: QueuedRow, result: RowScore): void {
    const call = q.call;
    if (call.failed) return;
    call.results[q.index] = result;
    if (--call.remaining === 0) call.resolve(call.results);
  }

  private failRow(q: QueuedRow, err: Error): void {
    if (q.call.failed) return;
    q.call.failed = true;
    q.call.reject(err);
  }

  private finishBatch(a: ActiveBackend): void {
    a.inFlight--;
    if (a.retired && a.inFlight === 0) void this.closeBackend(a);
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
