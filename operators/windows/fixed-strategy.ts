import type { FixedWindows } from './assigner.js';
import { latestWindowStart } from './hopping.js';
import type { ClosedWindow, LateInfo, StrategyContext, WindowStrategy } from './strategy.js';

/**
 * Tumbling/hopping windows. Store entry per open window: JSON [key, start] -> accumulator, so a record
 * rewrites only the few windows it falls in, and a window closes at watermark >= end + grace.
 */
export function fixedStrategy<In, Acc>(
  assigner: FixedWindows,
  { store, queue, ops, grace }: StrategyContext<In, Acc>,
): WindowStrategy<In> {
  const closeAt = (start: number): number => start + assigner.size + grace;
  /**
   * Each key's latest open window and its store id: consecutive records of a key mostly fall in the same
   * window, and building the id (JSON) per record cost more than the aggregate update. Bounded by the
   * open windows: an entry goes when its window closes.
   */
  const latestIds = new Map<string, { start: number; id: string }>();
  const windowId = (key: string, start: number): string => {
    const latest = latestIds.get(key);
    if (latest !== undefined && latest.start === start) return latest.id;
    const id = JSON.stringify([key, start]);
    if (latest === undefined || start > latest.start) latestIds.set(key, { start, id });
    return id;
  };
  return {
    add(key, eventTime, input, stamp, watermark): LateInfo | null {
      // The windows containing eventTime, latest start first (as fixedWindowsContaining lists them), without
      // allocating them: this runs once per record. Earlier starts close earlier, so the first closed
      // window ends the loop.
      const lastStart = latestWindowStart(assigner, eventTime);
      if (closeAt(lastStart) <= watermark) return { eventTime, watermark, closedAt: closeAt(lastStart) };
      for (
        let start = lastStart;
        start > eventTime - assigner.size && closeAt(start) > watermark;
        start -= assigner.advance
      ) {
        const id = windowId(key, start);
        const acc = store.get(id) as Acc | undefined;
        store.put(id, ops.add(acc ?? ops.init(), input, stamp));
        // A stored window is already queued (at creation, or by reschedule on restore): its close time
        // depends only on its start.
        if (acc === undefined) queue.schedule(closeAt(start), id);
      }
      return null;
    },
    close(ids): ClosedWindow<unknown>[] {
      const closed: ClosedWindow<unknown>[] = [];
      for (const id of ids) {
        const acc = store.get(id);
        if (acc === undefined) continue;
        const [key, start] = JSON.parse(id) as [string, number];
        closed.push({ key, start, end: start + assigner.size, acc });
        store.delete(id);
        if (latestIds.get(key)?.start === start) latestIds.delete(key);
      }
      return closed;
    },
    reschedule(storeKey) {
      const [, start] = JSON.parse(storeKey) as [string, number];
      queue.schedule(closeAt(start), storeKey);
    },
  };
}
