/**
 * Turns a SinkWriter into the terminal stage of a partition pipeline: records are batched, each batch is
 * written (retried with backoff for as long as it takes — the partition stays paused meanwhile because its
 * barriers stay outstanding), and a barrier is forwarded only after every write before it resolved.
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
}

/** kafkajs marks errors retriable or not; other sinks may mark an error `permanent`. */
export function isPermanentSinkError(err: unknown): boolean {
  const e = err as { retriable?: unknown; permanent?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.permanent === true || e.retriable === false);
}

export function sinkStage<T>(
  writer: SinkWriter<T>,
  options: SinkStageOptions,
): OperatorFunction<Element<T>, Barrier> {
  const attempt = (batch: StreamRecord<T>[]) =>
    pRetry(() => writer.write(batch), {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: Math.min(100, options.maxRetryDelayMs ?? 100),
      maxTimeout: options.maxRetryDelayMs ?? 5000,
      shouldRetry: ({ error }) => !isPermanentSinkError(error),
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (isPermanentSinkError(error)) return;
        options.logger.warn(
          { sink: options.name, attempt: attemptNumber, err: error.message, records: batch.length },
          'sink write failed; retrying',
        );
      },
    });
  // A permanent refusal of a batch is narrowed down record by record; only the guilty ones are rejected.
  const write = async (batch: StreamRecord<T>[]): Promise<void> => {
    try {
      await attempt(batch);
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
      for (const record of batch) await write([record]);
    }
  };

  return (source) =>
    new Observable<Barrier>((subscriber) => {
      let buffer: StreamRecord<T>[] = [];
      let chain: Promise<void> = Promise.resolve();
      let failed = false;
      const enqueue = (step: () => Promise<void> | void) => {
        chain = chain.then(step).catch((err: unknown) => {
          if (!failed) subscriber.error(err);
          failed = true;
        });
      };
      const flush = () => {
        if (buffer.length === 0) return;
        const batch = buffer;
        buffer = [];
        enqueue(() => (failed ? undefined : write(batch)));
      };
      const subscription = source.subscribe({
        next(element) {
          if (element.kind === 'record') {
            buffer.push(element);
            if (buffer.length >= options.maxBatch) flush();
            return;
          }
          flush();
          enqueue(() => {
            if (!failed) subscriber.next(element);
          });
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          flush();
          enqueue(() => subscriber.complete());
        },
      });
      return () => {
        failed = true;
        subscription.unsubscribe();
      };
    });
}
