/**
 * Buffers rows for one ClickHouse table and inserts them as JSONEachRow batches: when maxRows are
 * waiting, after maxDelayMs, or when the caller asks. A resolved flush() means every row added before the
 * call is stored, so the caller may treat it as the durable ack (and commit offsets). Transient failures
 * are retried with backoff inside flush() while the caller waits (its partitions stay paused); rows of a
 * failed insert stay buffered, in order, and go out with the next flush. Inserts are serialized, so
 * batches land in the order the rows were added.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import pRetry from 'p-retry';
import { checkTableName } from './sql-text.js';
import { isTransientClickHouseError } from './transient-errors.js';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Total time budget of one insert; no new attempt starts after it. */
  readonly maxRetryTimeMs: number;
}

export const DEFAULT_CLICKHOUSE_RETRY: RetryPolicy = {
  retries: 10,
  minDelayMs: 200,
  maxDelayMs: 5000,
  maxRetryTimeMs: 60_000,
};

export interface BatchWriterOptions {
  /** Rows per insert; reaching it starts a flush. */
  readonly maxRows: number;
  /** The oldest unflushed row waits at most this long before a flush starts. */
  readonly maxDelayMs: number;
  /** Hard bound on buffered rows; add() beyond it throws (the caller should have paused its input). */
  readonly maxBufferedRows?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly onRetry?: (info: { table: string; attempt: number; rows: number; error: Error }) => void;
  /** A size- or time-triggered flush failed for good; its rows stay buffered for the next flush(). */
  readonly onBackgroundError?: (error: ClickHouseWriteError) => void;
}

export class ClickHouseWriteError extends Error {
  override readonly name = 'ClickHouseWriteError';
}

export class ClickHouseBatchWriter<T extends object> {
  readonly table: string;
  private readonly retry: RetryPolicy;
  private readonly maxBufferedRows: number;
  /** Rows not yet stored, in add order; the front may be in flight. */
  private readonly buffer: T[] = [];
  private added = 0;
  private stored = 0;
  /** Highest row count a flush has been asked to cover. */
  private requested = 0;
  private tail: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly client: Pick<ClickHouseClient, 'insert'>,
    table: string,
    private readonly options: BatchWriterOptions,
  ) {
    this.table = checkTableName(table);
    if (!Number.isSafeInteger(options.maxRows) || options.maxRows <= 0) {
      throw new RangeError(`maxRows must be a positive integer, got ${options.maxRows}`);
    }
    if (!Number.isFinite(options.maxDelayMs) || options.maxDelayMs < 0) {
      throw new RangeError(`maxDelayMs must be a non-negative number of ms, got ${options.maxDelayMs}`);
    }
    this.retry = { ...DEFAULT_CLICKHOUSE_RETRY, ...options.retry };
    this.maxBufferedRows = options.maxBufferedRows ?? options.maxRows * 20;
  }

  /** Rows added but not yet stored. */
  get bufferedRows(): number {
    return this.buffer.length;
  }

  add(row: T): void {
    if (this.closed) throw new Error(`ClickHouseBatchWriter(${this.table}) is closed`);
    if (row === null || typeof row !== 'object') {
      throw new TypeError(`ClickHouseBatchWriter(${this.table}).add needs a row object, got ${row}`);
    }
    if (this.buffer.length >= this.maxBufferedRows) {
      throw new Error(
        `ClickHouseBatchWriter(${this.table}) holds ${this.buffer.length} unstored rows (maxBufferedRows); ` +
          'pause the input until flush() resolves',
      );
    }
    this.buffer.push(row);
    this.added += 1;
    if (this.added - this.requested >= this.options.maxRows) this.flushInBackground();
    else this.timer ??= setTimeout(() => this.flushInBackground(), this.options.maxDelayMs).unref();
  }

  /** Resolves once every row added before this call is stored; rejects with ClickHouseWriteError. */
  flush(): Promise<void> {
    this.clearTimer();
    const target = this.added;
    this.requested = Math.max(this.requested, target);
    const drain = () => this.drainTo(target);
    // Serialized after the previous flush whether it succeeded or not (its rows are still buffered).
    const run = this.tail.then(drain, drain);
    this.tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private flushInBackground(): void {
    this.flush().catch((err: unknown) => {
      const error =
        err instanceof ClickHouseWriteError ? err : new ClickHouseWriteError(String(err), { cause: err });
      this.options.onBackgroundError?.(error);
    });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async drainTo(target: number): Promise<void> {
    while (this.stored < target) {
      const chunk = this.buffer.slice(0, this.options.maxRows);
      await this.insertWithRetry(chunk);
      // Only the serialized drain removes rows, and only from the front, so this is exactly `chunk`.
      this.buffer.splice(0, chunk.length);
      this.stored += chunk.length;
    }
  }

  private async insertWithRetry(rows: T[]): Promise<void> {
    const started = performance.now();
    let attempts = 0;
    try {
      await pRetry(
        async () => {
          attempts += 1;
          await this.client.insert({ table: this.table, values: rows, format: 'JSONEachRow' });
        },
        {
          retries: this.retry.retries,
          minTimeout: this.retry.minDelayMs,
          maxTimeout: this.retry.maxDelayMs,
          maxRetryTime: this.retry.maxRetryTimeMs,
          factor: 2,
          randomize: true,
          // p-retry asks this only while attempts and time remain, so a true here is a real retry.
          shouldRetry: ({ error, attemptNumber }) => {
            if (!isTransientClickHouseError(error)) return false;
            this.options.onRetry?.({ table: this.table, attempt: attemptNumber, rows: rows.length, error });
            return true;
          },
        },
      );
    } catch (err) {
      const cause = err instanceof Error ? err : new Error(String(err));
      const elapsed = Math.round(performance.now() - started);
      const hint = isTransientClickHouseError(cause)
        ? ' (ClickHouse stayed unreachable or overloaded for the whole retry budget; is the server up?)'
        : ' (not retryable: fix the table or the rows)';
      throw new ClickHouseWriteError(
        `inserting ${rows.length} rows into ${this.table} failed after ${attempts} attempt(s) in ${elapsed} ms: ` +
          `${cause.message}${hint}`,
        { cause },
      );
    }
  }
}
