/**
 * Runs several stages side by side on one input and merges their outputs, with barrier alignment: a
 * checkpoint barrier goes downstream only once every branch has forwarded it, so everything any branch
 * emitted for records before the barrier is ahead of it (the checkpoint stays exact). This lets one
 * topology — one consumer group, one decode, one changelog — compute windows of several kinds.
 */
import { merge, Observable, share } from 'rxjs';
import type { Element, Stage } from '../../schemas/stream.js';

export function fanOut<A, B>(branches: readonly Stage<A, B>[]): Stage<A, B> {
  if (branches.length === 0) throw new Error('fanOut needs at least one branch stage');
  return (ctx) => (source) =>
    new Observable<Element<B>>((subscriber) => {
      const shared = source.pipe(share());
      const seen = new Map<number, number>();
      const subscription = merge(...branches.map((stage) => shared.pipe(stage(ctx)))).subscribe({
        next(element) {
          if (element.kind === 'record') return subscriber.next(element);
          const count = (seen.get(element.id) ?? 0) + 1;
          if (count < branches.length) {
            seen.set(element.id, count);
            return;
          }
          seen.delete(element.id);
          subscriber.next(element);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
}
