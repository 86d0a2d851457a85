import type { ProviderAttempt } from './execution-provider.js';
import type { ModelContract } from './model-session.js';

/** Where batches run: on the JS thread (inline) or in a worker_threads pool. */
export interface ScoringBackend {
  readonly contract: ModelContract;
  readonly provider: string;
  readonly attempts: readonly ProviderAttempt[];
  /** How many batches may run at once (1 inline; one per worker in a pool). */
  readonly concurrency: number;
  /** input is rows x F, row-major; it may be transferred away (do not reuse it). Returns one score per row. */
  run(input: Float32Array, rows: number): Promise<Float32Array>;
  close(): Promise<void>;
}
