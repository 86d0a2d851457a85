/**
 * The sink and side writes a worker has under way. A pipeline dropped by a crash or a rebalance does not
 * wait for its last write, and kafkajs reconnects a producer that is sent to after disconnect(): closing
 * the producer under such a write left a connection nobody closed, which kept the process alive after
 * stop(). The worker therefore lets these writes settle before it closes what they write through.
 */
import type { SinkWriter } from '../../connectors/sink.js';

export class WritesInFlight {
  private readonly writes = new Set<Promise<unknown>>();

  get size(): number {
    return this.writes.size;
  }

  track<T>(write: Promise<T>): Promise<T> {
    this.writes.add(write);
    const forget = () => this.writes.delete(write);
    write.then(forget, forget);
    return write;
  }

  /** The same writer, with every write tracked. */
  writer<T>(writer: SinkWriter<T>): SinkWriter<T> {
    return {
      write: (records) => this.track(writer.write(records)),
      close: () => writer.close(),
    };
  }

  /** Resolves once every write tracked so far settled, or after `maxMs`: true if they all did. */
  async settled(maxMs: number): Promise<boolean> {
    if (this.writes.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), maxMs);
    });
    try {
      return await Promise.race([Promise.allSettled([...this.writes]).then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
