import type { FixedWindows } from './assigner.js';
import { fixedWindowsContaining } from './hopping.js';
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
  return {
    add(key, eventTime, input, stamp, watermark): LateInfo | null {
      const windows = fixedWindowsContaining(assigner, eventTime);
      const open = windows.filter((w) => closeAt(w.start) > watermark);
      if (open.length === 0) return { eventTime, watermark, closedAt: closeAt(windows[0]!.start) };
      for (const { start } of open) {
        const id = JSON.stringify([key, start]);
        const acc = (store.get(id) as Acc | undefined) ?? ops.init();
        store.put(id, ops.add(acc, input, stamp));
        queue.schedule(closeAt(start), id);
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
      }
      return closed;
    },
    reschedule(storeKey) {
      const [, start] = JSON.parse(storeKey) as [string, number];
      queue.schedule(closeAt(start), storeKey);
    },
  };
}
