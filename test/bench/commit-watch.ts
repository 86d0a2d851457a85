/**
 * When a topology's checkpoints have committed every event, seen as the commits happen (each worker's
 * onCommitted) instead of by polling the group's offsets. A poll every 10 ms (an OffsetFetch round trip, about 0.6 ms of client CPU
 * each) taxed the run it timed: in process it ran on the worker's own event loop, and beside the worker
 * processes it took a share of the same 2 cores. The raw consumer it is compared with pays no such tax.
 */
import type { CommittedCheckpoint } from '../../topologies/runtime/worker.js';
import { cpuMark, type CpuMark } from './machine-cpu.js';

/** Collects committed offsets (from any number of workers) until every partition has reached its end. */
export class CommitTracker {
  private readonly committed = new Map<number, bigint>();
  private ends: ReadonlyMap<number, bigint> | undefined;
  private resolve: (at: CpuMark) => void = () => undefined;
  private readonly reached = new Promise<CpuMark>((r) => (this.resolve = r));

  /** The machine CPU mark taken the moment the last partition's commit arrived; fails after `ms`. */
  async doneWithin(ms: number): Promise<CpuMark> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.describe()} after ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([this.reached, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private describe(): string {
    const behind = [...(this.ends ?? new Map<number, bigint>())]
      .filter(([p, end]) => (this.committed.get(p) ?? -1n) < end)
      .map(([p, end]) => `partition ${p} at ${this.committed.get(p) ?? 'nothing'} of ${end}`);
    return this.ends ? `commits did not reach the end (${behind.join(', ')})` : 'no end offsets were given';
  }

  /** One checkpoint commit, as TopologyWorker.onCommitted reports it (any worker, any order). */
  add({ partition, nextOffset }: CommittedCheckpoint): void {
    const next = BigInt(nextOffset);
    if (next > (this.committed.get(partition) ?? -1n)) this.committed.set(partition, next);
    this.check();
  }

  /** The offset each partition's commits must reach; commits that came earlier count too. */
  expect(ends: ReadonlyMap<number, bigint>): void {
    this.ends = ends;
    this.check();
  }

  private check(): void {
    if (!this.ends) return;
    for (const [partition, end] of this.ends) {
      if ((this.committed.get(partition) ?? -1n) < end) return;
    }
    this.resolve(cpuMark());
  }
}
