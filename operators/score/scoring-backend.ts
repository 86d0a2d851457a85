import type { ProviderAttempt } from './execution-provider.js';
import type { ModelContract } from './model-session.js';

/** Where batches run: on the JS thread (inline) or in a worker_threads pool. */
export interface ScoringBackend {
  readonly contract: ModelContract;
  readonly provider: string;
  readonly attempts: readonly ProviderAttempt[];
  /** How many batches may run at once (1 inline; one per worker in a pool). */
  readonly concurrency: number;
  /**
   * True when run only reads input while the run lasts (never keeps or transfers it), so the scorer may
   * hand it a caller's array without a copy. Otherwise input may be transferred away.
   */
  readonly borrowsInput?: boolean;
  /** input is rows x F, row-major; unless borrowsInput, it may be transferred away (do not reuse it).
   * Returns one score per row. */
  run(input: Float32Array, rows: number): Promise<Float32Array>;
  close(): Promise<void>;
}
