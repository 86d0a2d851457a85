/**
 * Turns a SinkWriter into the terminal stage of a partition pipeline: records are batched, each batch is
 * written (retried with backoff for as long as it takes — the partition stays paused meanwhile because its
 * barriers stay outstanding), and a barrier is forwarded only after every write before it resolved.
 *
 * When a batch is written (a linger policy, as Kafka's producer `linger.ms`):
 * - as soon as it holds `maxBatch` records;
 * - at a barrier (everything before the barrier must be written before it is forwarded);
 * - once the input goes idle: `lingerMs` after the first record of the batch, or, with the default
 *   `lingerMs: 0`, at the end of the synchronous burst of records it arrived in (setImmediate: upstream
 *   stages emit a micro-batch at a time, so a burst is one group). Without this, a record waited for the
 *   batch to fill or for the next checkpoint barrier, and the checkpoint interval set the latency.
 * Writes run one at a time per sink and partition, in order. While one is in flight, idle records keep
 * accumulating and go out together when it resolves, so a slow sink gets larger batches, not a queue of
 * small ones.
 */
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { Observable, type OperatorFunction } from 'rxjs';
import type { SinkWriter } from '../../connectors/sink.js';
import type { Barrier, DeadLetterReason, Element, StreamRecord } from '../../schemas/stream.js';

export interface SinkStageOptions {
  readonly name: string;
  readonly maxBatch: number;
  readonly logger: Logger;
  /** Where a record goes that the sink refuses for good (e.g. too large): never lost, never retried forever. */
  readonly reject: (record: StreamRecord<unknown>, reason: DeadLetterReason) => void;
  /** Longest pause between retries of a failing write. */
  readonly maxRetryDelayMs?: number;
  /**
   * Longest time a record waits for more records to join its batch once no barrier or full batch sends it.
   * 0 (default): written at the end of the burst it arrived in. Infinity: only full batches and barriers
   * write (throughput over latency).
   */
  readonly lingerMs?: number;
}

/** kafkajs marks errors retriable or not; other sinks may mark an error `permanent`. */
export function isPermanentSinkError(err: unknown): boolean {
  const e = err as { retriable?: unknown; permanent?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.permanent === true || e.retriable === false);
}

function checkOptions(options: SinkStageOptions): number {
  if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
    throw new Error(`sink ${options.name}: maxBatch must be an integer >= 1, got ${options.maxBatch}`);
  }
  const lingerMs = options.lingerMs ?? 0;
  if (!(lingerMs >= 0)) {
    throw new Error(`sink ${options.name}: lingerMs must be >= 0 (or Infinity to disable), got ${lingerMs}`);
  }
  return lingerMs;
}

export function sinkStage<T>(
  writer: SinkWriter<T>,
  options: SinkStageOptions,
): OperatorFunction<Element<T>, Barrier> {
  const lingerMs = checkOptions(options);
  // Retried until it succeeds, unless the stage is torn down (its pipeline dropped or closed): the records
  // then belong to whoever owns the partition next, and a retry could outlive the worker's producer.
  const attempt = (batch: StreamRecord<T>[], signal: AbortSignal) =>
    pRetry(() => writer.write(batch), {
      signal,
      retries: Number.POSITIVE_INFINITY,
      minTimeout: Math.min(100, options.maxRetryDelayMs ?? 100),
      maxTimeout: options.maxRetryDelayMs ?? 5000,
      shouldRetry: ({ error }) => !isPermanentSinkError(error),
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (isPermanentSinkError(error) || signal.aborted) return;
        options.logger.warn(
          { sink: options.name, attempt: attemptNumber, err: error.message, records: batch.length },
          'sink write failed; retrying',
        );
      },
    });
  // A permanent refusal of a batch is narrowed down record by record; only the guilty ones are rejected.
  const write = async (batch: StreamRecord<T>[], signal: AbortSignal): Promise<void> => {
    try {
      await attempt(batch, signal);
    } catch (err) {
      if (!isPermanentSinkError(err)) throw err;
      if (batch.length === 1) {
        const record = batch[0] as StreamRecord<T>;
        options.logger.error({ sink: options.name, err: (err as Error).message }, 'sink refused a record');
        options.reject(record, {
          code: 'SINK_REJECTED',
          message: `${options.name}: ${(err as Error).message}`,
        });
        return;
      }
      for (const record of batch) await write([record], signal);
    }
  };

  return (source) =>
    new Observable<Barrier>((subscriber) => {
      // Invariant: `buffer` holds only records that come after everything already in `chain`, so cutting
      // it into a batch at any moment keeps the order of writes and barriers.
      let buffer: StreamRecord<T>[] = [];
      let chain: Promise<void> = Promise.resolve();
      let failed = false;
      /** Batches handed to `chain` whose write has not resolved yet. */
      let writesQueued = 0;
      /** The buffer went idle while a write was in flight: cut it as soon as the writes resolve. */
      let idle = false;
      let lingerTimer: NodeJS.Timeout | undefined;
      let lingerImmediate: NodeJS.Immediate | undefined;
      const torndown = new AbortController();

      const cancelLinger = () => {
        if (lingerTimer) clearTimeout(lingerTimer);
        if (lingerImmediate) clearImmediate(lingerImmediate);
        lingerTimer = undefined;
        lingerImmediate = undefined;
      };
      const enqueue = (step: () => Promise<void> | void) => {
        chain = chain.then(step).catch((err: unknown) => {
          if (!failed) subscriber.error(err);
          failed = true;
          cancelLinger();
        });
      };
      const flush = () => {
        cancelLinger();
        idle = false;
        if (buffer.length === 0) return;
        const batch = buffer;
        buffer = [];
        writesQueued += 1;
        enqueue(async () => {
          try {
            if (!failed) await write(batch, torndown.signal);
          } finally {
            writesQueued -= 1;
          }
          // Records that went idle during the write leave now, in one batch.
          if (writesQueued === 0 && idle && !failed) flush();
        });
      };
      const onIdle = () => {
        lingerTimer = undefined;
        lingerImmediate = undefined;
        if (writesQueued === 0) flush();
        else idle = true;
      };
      const armLinger = () => {
        if (lingerTimer || lingerImmediate || idle || lingerMs === Number.POSITIVE_INFINITY) return;
        if (lingerMs === 0) lingerImmediate = setImmediate(onIdle);
        else lingerTimer = setTimeout(onIdle, lingerMs);
      };
      const subscription = source.subscribe({
        next(element) {
          if (failed) return;
          if (element.kind === 'record') {
            buffer.push(element);
            if (buffer.length >= options.maxBatch) flush();
            else armLinger();
            return;
          }
          flush();
          enqueue(() => {
            if (!failed) subscriber.next(element);
          });
        },
        error(err) {
          cancelLinger();
          subscriber.error(err);
        },
        complete() {
          flush();
          enqueue(() => {
            if (!failed) subscriber.complete();
          });
        },
      });
      return () => {
        failed = true;
        torndown.abort(new Error(`sink ${options.name}: stage torn down`));
        cancelLinger();
        subscription.unsubscribe();
      };
    });
}
