import type { SessionWindows } from './assigner.js';
import type { ClosedWindow, LateInfo, StrategyContext, WindowStrategy } from './strategy.js';

/** [start, end, accumulator] of one open session; end = last event time + 1. */
type StoredSession = [number, number, unknown];

/**
 * Session windows. Store entry per key: JSON [key] -> open sessions sorted by start (usually one), so
 * merging sees all candidates in one read. Why the timing rules are safe: an admitted record has
 * watermark < t + 1 + grace and a closed session has watermark >= end + gap + grace, hence
 * t > (end - 1) + gap: no admitted record can ever reach a session that was already emitted.
 */
export function sessionStrategy<In, Acc>(
  assigner: SessionWindows,
  { store, queue, ops, grace }: StrategyContext<In, Acc>,
): WindowStrategy<In> {
  const { gap } = assigner;
  const closeAt = (end: number): number => end + gap + grace;
  return {
    add(key, eventTime, input, stamp, watermark): LateInfo | null {
      if (eventTime + 1 + grace <= watermark)
        return { eventTime, watermark, closedAt: eventTime + 1 + grace };
      const id = JSON.stringify([key]);
      const sessions = (store.get(id) as StoredSession[] | undefined) ?? [];
      const touching = sessions.filter(([s, e]) => s <= eventTime + gap && e - 1 >= eventTime - gap);
      let start = eventTime;
      let end = eventTime + 1;
      let acc: Acc | undefined;
      for (const [s, e, a] of touching) {
        start = Math.min(start, s);
        end = Math.max(end, e);
        acc = acc === undefined ? (a as Acc) : ops.merge(acc, a as Acc);
      }
      acc = ops.add(acc ?? ops.init(), input, stamp);
      const kept = sessions.filter((s) => !touching.includes(s));
      kept.push([start, end, acc]);
      kept.sort((a, b) => a[0] - b[0]);
      store.put(id, kept);
      queue.schedule(closeAt(end), id);
      return null;
    },
    closeDue(watermark): ClosedWindow<unknown>[] {
      const ids = queue.popDue(watermark);
      const closed: ClosedWindow<unknown>[] = [];
      for (const id of ids) {
        const sessions = store.get(id) as StoredSession[] | undefined;
        if (sessions === undefined) continue;
        const [key] = JSON.parse(id) as [string];
        const open: StoredSession[] = [];
        for (const s of sessions) {
          if (closeAt(s[1]) <= watermark) closed.push({ key, start: s[0], end: s[1], acc: s[2] });
          else open.push(s);
        }
        if (open.length === sessions.length) continue; // a stale queue entry: the session grew since
        if (open.length === 0) store.delete(id);
        else store.put(id, open);
      }
      return closed;
    },
    // Writes go to the store as they happen: nothing held back.
    flush() {},
    restore(storeKey) {
      for (const [, end] of store.get(storeKey) as StoredSession[]) queue.schedule(closeAt(end), storeKey);
    },
  };
}
