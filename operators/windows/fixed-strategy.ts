import type { FixedWindows } from './assigner.js';
import { latestWindowStart } from './hopping.js';
import type { ClosedWindow, LateInfo, StrategyContext, WindowStrategy } from './strategy.js';

/** One open (or just closed) window of one key. */
interface Slot<Acc> {
  readonly key: string;
  readonly start: number;
  acc: Acc;
  /** The store holds an entry for this window (written by an earlier flush, or restored). */
  stored: boolean;
  /** Listed in `pending`: its store entry must be rewritten (or deleted) at the next flush. */
  pending: boolean;
  open: boolean;
}

/** The store entry of a window: JSON [key, start] -> accumulator (the changelog format; keep it stable). */
const storeKey = (key: string, start: number): string => JSON.stringify([key, start]);

/**
 * Tumbling/hopping windows. Open windows live in memory, grouped by start (every window of one start closes
 * at the same watermark, start + size + grace), and reach the store only when a checkpoint is taken
 * (flush): a window opened and closed between two checkpoints, which is most of them when keys are many
 * and events per key and window few, never builds a store key, never enters the changelog, and closes
 * with its whole group instead of one delete at a time. The store still holds, after each flush, exactly
 * one entry per open window, so restored state is read as before.
 */
export function fixedStrategy<In, Acc>(
  assigner: FixedWindows,
  { store, queue, ops, grace }: StrategyContext<In, Acc>,
): WindowStrategy<In> {
  const closeAt = (start: number): number => start + assigner.size + grace;
  /** Open windows by start; the closing queue holds each start (as text) once, at its close time. */
  const byStart = new Map<number, Map<string, Slot<Acc>>>();
  /** Windows whose store entry is out of date, in the order they became so. */
  let pending: Slot<Acc>[] = [];

  const windowsStarting = (start: number): Map<string, Slot<Acc>> => {
    let windows = byStart.get(start);
    if (windows === undefined) {
      windows = new Map();
      byStart.set(start, windows);
      queue.schedule(closeAt(start), String(start));
    }
    return windows;
  };
  const markPending = (slot: Slot<Acc>): void => {
    if (slot.pending) return;
    slot.pending = true;
    pending.push(slot);
  };

  return {
    add(key, eventTime, input, stamp, watermark): LateInfo | null {
      // The windows containing eventTime, latest start first, without allocating them: this runs once per
      // record. Earlier starts close earlier, so the first closed window ends the loop.
      const lastStart = latestWindowStart(assigner, eventTime);
      if (closeAt(lastStart) <= watermark) return { eventTime, watermark, closedAt: closeAt(lastStart) };
      for (
        let start = lastStart;
        start > eventTime - assigner.size && closeAt(start) > watermark;
        start -= assigner.advance
      ) {
        const windows = windowsStarting(start);
        let slot = windows.get(key);
        if (slot === undefined) {
          slot = { key, start, acc: ops.init(), stored: false, pending: false, open: true };
          windows.set(key, slot);
        }
        slot.acc = ops.add(slot.acc, input, stamp);
        markPending(slot);
      }
      return null;
    },
    closeDue(watermark): ClosedWindow<unknown>[] {
      const due = queue.popDue(watermark);
      if (due.length === 0) return [];
      const closed: ClosedWindow<unknown>[] = [];
      // The engine's order is (end, start, key), so a replay emits alike: by start, then by key.
      for (const start of due.map(Number).sort((a, b) => a - b)) {
        const windows = byStart.get(start) as Map<string, Slot<Acc>>;
        byStart.delete(start);
        for (const key of [...windows.keys()].sort()) {
          const slot = windows.get(key) as Slot<Acc>;
          slot.open = false;
          // Only a window the store holds needs its entry deleted; the others are simply forgotten.
          if (slot.stored) markPending(slot);
          closed.push({ key, start, end: start + assigner.size, acc: slot.acc });
        }
      }
      return closed;
    },
    flush() {
      for (const slot of pending) {
        slot.pending = false;
        if (slot.open) {
          store.put(storeKey(slot.key, slot.start), slot.acc);
          slot.stored = true;
        } else if (slot.stored) {
          store.delete(storeKey(slot.key, slot.start));
          slot.stored = false;
        }
      }
      pending = [];
    },
    restore(id) {
      const [key, start] = JSON.parse(id) as [string, number];
      const windows = windowsStarting(start);
      const acc = store.get(id) as Acc;
      windows.set(key, { key, start, acc, stored: true, pending: false, open: true });
    },
  };
}
