/**
 * Helper for stages that transform records one at a time and pass barriers through untouched, in order.
 * A per-record function may be async; order is still kept (records and barriers wait their turn).
 */
import { Observable } from 'rxjs';
import type { Element, PartitionContext, Stage, StreamRecord } from '../schemas/stream.js';

/** What a record turns into: a record, nothing (filtered or dead-lettered), or several records. */
export type RecordOutcome<B> = StreamRecord<B> | null | readonly StreamRecord<B>[];

export function recordStage<A, B>(
  make: (ctx: PartitionContext) => (record: StreamRecord<A>) => RecordOutcome<B> | Promise<RecordOutcome<B>>,
): Stage<A, B> {
  return (ctx) => {
    const fn = make(ctx);
    return (source) =>
      new Observable<Element<B>>((subscriber) => {
        // Fast path stays synchronous; the first promise switches to an ordered chain until it drains.
        let chain: Promise<void> | undefined;
        let pending = 0;
        const emit = (out: RecordOutcome<B>) => {
          if (out === null) return;
          if (Array.isArray(out)) for (const r of out as StreamRecord<B>[]) subscriber.next(r);
          else subscriber.next(out as StreamRecord<B>);
        };
        const handle = (element: Element<A>) => {
          if (element.kind === 'barrier') return subscriber.next(element);
          const out = fn(element);
          if (out instanceof Promise) return out.then(emit);
          emit(out);
        };
        const enqueue = (element: Element<A>) => {
          pending += 1;
          chain = (chain ?? Promise.resolve())
            .then(() => handle(element))
            .then(() => {
              pending -= 1;
              if (pending === 0) chain = undefined;
            })
            .catch((err: unknown) => subscriber.error(err));
        };
        const subscription = source.subscribe({
          next(element) {
            if (chain) return enqueue(element);
            try {
              const result = handle(element);
              if (result instanceof Promise) {
                pending += 1;
                chain = result
                  .then(() => {
                    pending -= 1;
                    if (pending === 0) chain = undefined;
                  })
                  .catch((err: unknown) => subscriber.error(err));
              }
            } catch (err) {
              subscriber.error(err);
            }
          },
          error: (err) => subscriber.error(err),
          complete: () => (chain ? void chain.then(() => subscriber.complete()) : subscriber.complete()),
        });
        return () => subscription.unsubscribe();
      });
  };
}

/** Map record values; barriers pass through. */
export function mapValues<A, B>(fn: (value: A, record: StreamRecord<A>) => B): Stage<A, B> {
  return recordStage<A, B>(() => (r) => ({ ...r, value: fn(r.value, r) }));
}

/** Keep records for which the predicate holds. Dropping here is deliberate, so it is counted by the caller. */
export function filterValues<A>(predicate: (value: A, record: StreamRecord<A>) => boolean): Stage<A, A> {
  return recordStage<A, A>(() => (r) => (predicate(r.value, r) ? r : null));
}
