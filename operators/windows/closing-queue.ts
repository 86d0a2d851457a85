/**
 * Which stored windows to look at when the watermark advances, so closing costs O(log n) per distinct
 * close time instead of a scan of every key. Windows that close together (every key's window of one
 * tumbling period) share one bucket: a record that opens a window costs a Map lookup and a Set insert, and
 * the heap only orders the distinct close times. It is derived data: rebuilt from the store on restore,
 * never persisted. Duplicate (closeAt, id) pairs are ignored; stale entries (a session that grew and moved
 * its close time) are harmless because strategies re-check.
 */
const NOTHING_DUE: readonly string[] = Object.freeze([]);

export class ClosingQueue {
  /** Min-heap of the distinct close times that have ids waiting. */
  private readonly times: number[] = [];
  private readonly buckets = new Map<number, Set<string>>();
  private entries = 0;

  /** Scheduled (closeAt, id) pairs not yet popped. */
  get size(): number {
    return this.entries;
  }

  schedule(at: number, id: string): void {
    let ids = this.buckets.get(at);
    if (ids === undefined) {
      ids = new Set<string>();
      this.buckets.set(at, ids);
      this.times.push(at);
      this.siftUp(this.times.length - 1);
    }
    if (ids.has(id)) return;
    ids.add(id);
    this.entries += 1;
  }

  /** Remove and return the distinct ids of all entries with closeAt <= watermark. */
  popDue(watermark: number): readonly string[] {
    // Called for every record that moves the watermark; most close nothing, and need allocate nothing.
    if (this.times.length === 0 || (this.times[0] as number) > watermark) return NOTHING_DUE;
    let due = this.popEarliest();
    if (this.times.length > 0 && (this.times[0] as number) <= watermark) {
      // Several close times passed at once: an id may sit in more than one of them.
      due = new Set(due);
      while (this.times.length > 0 && (this.times[0] as number) <= watermark) {
        for (const id of this.popEarliest()) due.add(id);
      }
    }
    return [...due];
  }

  private popEarliest(): Set<string> {
    const times = this.times;
    const at = times[0] as number;
    const tail = times.pop() as number;
    if (times.length > 0) {
      times[0] = tail;
      this.siftDown(0);
    }
    const ids = this.buckets.get(at) as Set<string>;
    this.buckets.delete(at);
    this.entries -= ids.size;
    return ids;
  }

  private siftUp(i: number): void {
    const times = this.times;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((times[parent] as number) <= (times[i] as number)) return;
      const swapped = times[parent] as number;
      times[parent] = times[i] as number;
      times[i] = swapped;
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const times = this.times;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < times.length && (times[left] as number) < (times[least] as number)) least = left;
      if (right < times.length && (times[right] as number) < (times[least] as number)) least = right;
      if (least === i) return;
      const swapped = times[least] as number;
      times[least] = times[i] as number;
      times[i] = swapped;
      i = least;
    }
  }
}
