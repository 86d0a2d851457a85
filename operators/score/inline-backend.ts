/**
 * Runs batches on the calling thread. ORT's run blocks the event loop for the length of the batch, so this
 * suits cheap models (logistic regression: microseconds per batch); heavy ones use the worker pool.
 */
import type { ModelContract, OpenModelOptions } from './model-session.js';
import { openModelSession, runBatch } from './model-session.js';
import type { ScoringBackend } from './scoring-backend.js';

export async function createInlineBackend(
  modelBytes: Uint8Array,
  contract: ModelContract,
  options: OpenModelOptions,
): Promise<ScoringBackend> {
  const { provider, session, attempts } = await openModelSession(modelBytes, contract, options);
  return {
    contract,
    provider,
    attempts,
    concurrency: 1,
    // ORT reads the tensor's data during the run and keeps no reference to it afterwards.
    borrowsInput: true,
    run: (input, rows) => runBatch(session, contract, input, rows),
    close: () => session.release(),
  };
}
