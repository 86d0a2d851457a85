import type { SlidingWindows } from './assigner.js';
import { slidingWindowExists } from './sliding.js';
import type { ClosedWindow, LateInfo, StrategyContext, WindowStrategy } from './strategy.js';

/** [eventTime, arrival seq, prepared input] of one admitted record. */
type StoredRecord = [number, number, unknown];

/**
 * Sliding windows. Which windows exist depends on the records around them, so instead of eagerly
 * keeping one accumulator per window (Kafka's approach) we keep the admitted records' prepared inputs
 * per key (JSON [key] -> records in arrival order) and fold a window when it closes. Every record
 * schedules its two candidate windows (left: start t - d, right: start t + 1); at close time a
 * candidate is emitted if it exists per sliding.ts. A record is kept until its right window has
 * closed (t + d + 2 + grace), the last moment it matters, even as the left neighbour of a window.
 */
export function slidingStrategy<In, Acc>(
  assigner: SlidingWindows,
  { store, queue, ops, grace }: StrategyContext<In, Acc>,
): WindowStrategy<In> {
  const d = assigner.timeDifference;
  const closeAt = (start: number): number => start + assigner.size + grace;
  const schedule = (key: string, t: number, watermark: number): void => {
    for (const start of [t - d, t + 1]) {
      if (closeAt(start) > watermark) queue.schedule(closeAt(start), JSON.stringify([key, start]));
    }
  };
  return {
    add(key, eventTime, input, stamp, watermark): LateInfo | null {
      if (eventTime + 1 + grace <= watermark)
        return { eventTime, watermark, closedAt: eventTime + 1 + grace };
      const id = JSON.stringify([key]);
      const records = (store.get(id) as StoredRecord[] | undefined) ?? [];
      records.push([eventTime, stamp.seq, input]);
      store.put(id, records);
      schedule(key, eventTime, watermark);
      return null;
    },
    closeDue(watermark): ClosedWindow<unknown>[] {
      const ids = queue.popDue(watermark);
      const startsByKey = new Map<string, number[]>();
      for (const id of ids) {
        const [key, start] = JSON.parse(id) as [string, number];
        const starts = startsByKey.get(key) ?? [];
        starts.push(start);
        startsByKey.set(key, starts);
      }
      const closed: ClosedWindow<unknown>[] = [];
      for (const [key, starts] of startsByKey) {
        const id = JSON.stringify([key]);
        const records = (store.get(id) as StoredRecord[] | undefined) ?? [];
        const times = new Set(records.map((r) => r[0]));
        const hasIn = (from: number, to: number): boolean => records.some(([t]) => t >= from && t <= to);
        for (const start of starts) {
          if (!slidingWindowExists(assigner, start, (t) => times.has(t), hasIn)) continue;
          let acc = ops.init();
          for (const [t, seq, input] of records) {
            if (t >= start && t <= start + d) acc = ops.add(acc, input as In, { eventTime: t, seq });
          }
          closed.push({ key, start, end: start + assigner.size, acc });
        }
        // Prune only after all of this key's due windows were folded: they may share records.
        const kept = records.filter(([t]) => closeAt(t + 1) > watermark);
        if (kept.length === records.length) continue;
        if (kept.length === 0) store.delete(id);
        else store.put(id, kept);
      }
      return closed;
    },
    // Writes go to the store as they happen: nothing held back.
    flush() {},
    restore(storeKey, watermark) {
      const [key] = JSON.parse(storeKey) as [string];
      for (const [t] of store.get(storeKey) as StoredRecord[]) schedule(key, t, watermark);
    },
  };
}
