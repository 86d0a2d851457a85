/**
 * A min-heap of (closeAt, id) telling the engine which stored windows to look at when the watermark
 * advances, so closing costs O(log n) per window instead of a scan of every key. It is derived data:
 * rebuilt from the store on restore, never persisted. Duplicate (closeAt, id) pairs are ignored; stale
 * entries (a session that grew and moved its close time) are harmless because strategies re-check.
 */
const NOTHING_DUE: readonly string[] = Object.freeze([]);

interface Entry {
  readonly at: number;
  readonly id: string;
}

export class ClosingQueue {
  private readonly heap: Entry[] = [];
  private readonly queued = new Set<string>();

  get size(): number {
    return this.heap.length;
  }

  schedule(at: number, id: string): void {
    const tag = `${at}|${id}`;
    if (this.queued.has(tag)) return;
    this.queued.add(tag);
    this.heap.push({ at, id });
    this.siftUp(this.heap.length - 1);
  }

  /** Remove and return the distinct ids of all entries with closeAt <= watermark. */
  popDue(watermark: number): readonly string[] {
    // Called for every record that moves the watermark; most close nothing, and need allocate nothing.
    if (this.heap.length === 0 || this.heap[0]!.at > watermark) return NOTHING_DUE;
    const ids = new Set<string>();
    while (this.heap.length > 0 && this.heap[0]!.at <= watermark) {
      const top = this.heap[0]!;
      const tail = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = tail;
        this.siftDown(0);
      }
      this.queued.delete(`${top.at}|${top.id}`);
      ids.add(top.id);
    }
    return [...ids];
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) return;
      const swapped = heap[parent]!;
      heap[parent] = heap[i]!;
      heap[i] = swapped;
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && heap[left]!.at < heap[least]!.at) least = left;
      if (right < heap.length && heap[right]!.at < heap[least]!.at) least = right;
      if (least === i) return;
      const swapped = heap[least]!;
      heap[least] = heap[i]!;
      heap[i] = swapped;
      i = least;
    }
  }
}
