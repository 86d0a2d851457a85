/**
 * Writes online feature rows to Redis in pipelined batches through the version-guarded Lua CAS. A
 * resolved writeBatch() means Redis acknowledged every row, so the caller may treat it as the durable
 * ack. Because the CAS makes every write idempotent, a failed batch is retried whole, with backoff, and
 * the error surfaces once the retry budget (attempts and time) is spent.
 */
import pRetry, { AbortError } from 'p-retry';
import {
  DEFAULT_KEY_PREFIX,
  checkKeyPrefix,
  encodeFeatureValues,
  featureKey,
  type OnlineFeatureRow,
} from './feature-hash.js';
import { FEATURE_CAS_COMMAND, FEATURE_CAS_LUA } from './feature-cas-script.js';
import { inOneRoundTrip, type OnlineStoreCommands } from './one-round-trip.js';
import type { RedisConnection } from './redis-client.js';
import { isTransientRedisError } from './transient-errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Total time budget; no new attempt starts after it. */
  readonly maxRetryTimeMs: number;
}

export const DEFAULT_REDIS_RETRY: RetryPolicy = {
  retries: 10,
  minDelayMs: 100,
  maxDelayMs: 2000,
  maxRetryTimeMs: 30_000,
};

export interface OnlineFeatureWriterOptions {
  readonly keyPrefix?: string;
  /** Time to live of a feature hash after its last applied write. */
  readonly ttlMs?: number;
  /** Rows per pipeline; bigger batches are sent as several pipelines, one after another. */
  readonly maxPipelineRows?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Wall clock for `__ts` (ms). */
  readonly now?: () => number;
  readonly onRetry?: (info: { attempt: number; error: Error; rows: number }) => void;
}

export type WriteOutcome = 'applied' | 'skipped';

export interface WriteBatchResult {
  readonly applied: number;
  readonly skipped: number;
  /** One outcome per input row, in input order. */
  readonly outcomes: readonly WriteOutcome[];
}

export class OnlineStoreWriteError extends Error {
  override readonly name = 'OnlineStoreWriteError';
}

interface EncodedRow {
  readonly key: string;
  readonly version: string;
  readonly fields: readonly string[];
}

export interface OnlineFeatureWriter {
  writeBatch(rows: readonly OnlineFeatureRow[]): Promise<WriteBatchResult>;
}

/** Registers the Lua CAS on the client once (ioredis then sends EVALSHA, falling back to EVAL). */
function ensureCasCommand(redis: RedisConnection): void {
  if (typeof (redis as unknown as Partial<OnlineStoreCommands>).sluiceFeatureCas === 'function') return;
  redis.defineCommand(FEATURE_CAS_COMMAND, { numberOfKeys: 1, lua: FEATURE_CAS_LUA });
}

export function createOnlineFeatureWriter(
  redis: RedisConnection,
  options: OnlineFeatureWriterOptions = {},
): OnlineFeatureWriter {
  const prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  checkKeyPrefix(prefix);
  const ttlMs = options.ttlMs ?? 7 * 24 * 3600 * 1000;
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`ttlMs must be a positive integer number of milliseconds, got ${ttlMs}`);
  }
  const maxPipelineRows = options.maxPipelineRows ?? 1000;
  const retry = { ...DEFAULT_REDIS_RETRY, ...options.retry };
  const now = options.now ?? Date.now;
  ensureCasCommand(redis);

  async function sendChunk(chunk: readonly EncodedRow[]): Promise<WriteOutcome[]> {
    const writtenAt = String(now());
    const results = await inOneRoundTrip(
      redis,
      chunk.map(
        (row) => (t) => t.sluiceFeatureCas(row.key, row.version, String(ttlMs), writtenAt, ...row.fields),
      ),
    );
    const outcomes: WriteOutcome[] = [];
    for (const [i, [err, reply]] of results.entries()) {
      if (err) {
        const key = chunk[i]?.key;
        const failure = new OnlineStoreWriteError(`redis write of ${key} failed: ${err.message}`, {
          cause: err,
        });
        // One permanent failure fails the batch at once; otherwise the whole (idempotent) batch is retried.
        if (!isTransientRedisError(err)) throw new AbortError(failure);
        throw failure;
      }
      outcomes.push(reply === 1 ? 'applied' : 'skipped');
    }
    return outcomes;
  }

  async function sendWithRetry(chunk: readonly EncodedRow[]): Promise<WriteOutcome[]> {
    const started = performance.now();
    let attempts = 0;
    try {
      return await pRetry(
        async () => {
          attempts += 1;
          return sendChunk(chunk);
        },
        {
          retries: retry.retries,
          minTimeout: retry.minDelayMs,
          maxTimeout: retry.maxDelayMs,
          maxRetryTime: retry.maxRetryTimeMs,
          factor: 2,
          randomize: true,
          // p-retry asks this only while attempts and time remain, so a true here is a real retry.
          shouldRetry: ({ error, attemptNumber }) => {
            if (!isTransientRedisError(error instanceof OnlineStoreWriteError ? error.cause : error))
              return false;
            options.onRetry?.({ attempt: attemptNumber, error, rows: chunk.length });
            return true;
          },
        },
      );
    } catch (err) {
      const cause = err instanceof Error ? err : new Error(String(err));
      const elapsed = Math.round(performance.now() - started);
      throw new OnlineStoreWriteError(
        `writing ${chunk.length} feature rows to Redis failed after ${attempts} attempt(s) in ${elapsed} ms: ${cause.message}`,
        { cause },
      );
    }
  }

  return {
    async writeBatch(rows) {
      // Validate everything before sending anything: bad input fails the call, not half a batch.
      const encoded: EncodedRow[] = rows.map((row) => ({
        key: featureKey(prefix, row.view, row.entity),
        version: String(row.version),
        fields: encodeFeatureValues(row),
      }));
      const outcomes: WriteOutcome[] = [];
      for (let start = 0; start < encoded.length; start += maxPipelineRows) {
        outcomes.push(...(await sendWithRetry(encoded.slice(start, start + maxPipelineRows))));
      }
      const applied = outcomes.filter((o) => o === 'applied').length;
      return { applied, skipped: outcomes.length - applied, outcomes };
    },
  };
}
