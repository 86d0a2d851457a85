/**
 * Work a worker started but does not await where it started it, which stop() must let settle before it
 * closes the clients that work uses:
 * - state restores of an assignment a consumer crash dropped, still opening their producers;
 * - sink and side writes, including those of pipelines already dropped. Stock kafkajs reconnected a
 *   producer that was sent to after disconnect(), and that connection kept the process alive after stop();
 *   the patched one refuses (patches/README.md), so a write cut short by the close fails instead, and is
 *   replayed from the last commit. Letting it finish first is cheaper than the replay.
 */
import type { SinkWriter } from '../../connectors/sink.js';

export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  get size(): number {
    return this.pending.size;
  }

  /** Returns `work` itself; it is forgotten once it settles, either way. */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** The same writer, with every write tracked. */
  writer<T>(writer: SinkWriter<T>): SinkWriter<T> {
    return {
      write: (records) => this.track(writer.write(records)),
      close: () => writer.close(),
    };
  }

  /** Resolves once everything tracked so far settled, or after `maxMs`: true if it all did. */
  async settled(maxMs: number): Promise<boolean> {
    if (this.pending.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), maxMs);
    });
    try {
      return await Promise.race([Promise.allSettled([...this.pending]).then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
