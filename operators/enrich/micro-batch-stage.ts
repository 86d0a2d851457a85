/**
 * Helper for stages that do I/O per group of records (one Redis round trip, one scorer call) instead of per
 * record. Records are grouped up to maxBatch, or for at most maxDelayMs, and never across a barrier. Each
 * group starts as soon as it closes, so several groups can be in flight at once (that is what lets the
 * scorer coalesce rows into large batches), but their outputs, and the barriers between them, are emitted
 * strictly in input order.
 */
import { Observable } from 'rxjs';
import type { Element, PartitionContext, Stage, StreamRecord } from '../../schemas/stream.js';
import type { RecordOutcome } from '../record-stage.js';

export interface MicroBatchStageOptions {
  readonly maxBatch?: number;
  readonly maxDelayMs?: number;
}

/** Processes a group; returns one outcome per input record, in the same order. */
export type BatchFunction<A, B> = (records: readonly StreamRecord<A>[]) => Promise<RecordOutcome<B>[]>;

export function microBatchStage<A, B>(
  make: (ctx: PartitionContext) => BatchFunction<A, B>,
  options: MicroBatchStageOptions = {},
): Stage<A, B> {
  const maxBatch = options.maxBatch ?? 256;
  const maxDelayMs = options.maxDelayMs ?? 2;
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new Error(`maxBatch must be an integer >= 1, got ${maxBatch}`);
  return (ctx) => {
    const fn = make(ctx);
    return (source) =>
      new Observable<Element<B>>((subscriber) => {
        let buffer: StreamRecord<A>[] = [];
        let timer: NodeJS.Timeout | undefined;
        let output: Promise<void> = Promise.resolve();
        let failed = false;
        const fail = (err: unknown) => {
          if (failed) return;
          failed = true;
          subscriber.error(err);
        };
        const emit = (outcomes: RecordOutcome<B>[]) => {
          if (failed) return;
          for (const out of outcomes) {
            if (out === null) continue;
            if (Array.isArray(out)) for (const r of out as StreamRecord<B>[]) subscriber.next(r);
            else subscriber.next(out as StreamRecord<B>);
          }
        };
        const flush = () => {
          if (timer) clearTimeout(timer);
          timer = undefined;
          if (buffer.length === 0) return;
          const group = buffer;
          buffer = [];
          let pending: Promise<RecordOutcome<B>[]>;
          try {
            pending = fn(group);
          } catch (err) {
            pending = Promise.reject(err);
          }
          pending.catch(() => undefined); // surfaced through the ordered chain below
          output = output.then(() => pending).then(emit, fail);
        };
        const subscription = source.subscribe({
          next(element) {
            if (failed) return;
            if (element.kind === 'barrier') {
              flush();
              output = output.then(() => {
                if (!failed) subscriber.next(element);
              });
              return;
            }
            buffer.push(element);
            if (buffer.length >= maxBatch) flush();
            else timer ??= setTimeout(flush, maxDelayMs);
          },
          error: (err) => fail(err),
          complete: () => {
            flush();
            void output.then(() => {
              if (!failed) subscriber.complete();
            });
          },
        });
        return () => {
          if (timer) clearTimeout(timer);
          subscription.unsubscribe();
        };
      });
  };
}
