/**
 * A worker process that runs its topology on several stream threads, as Kafka Streams'
 * `num.stream.threads` does: each thread is one more member of the topology's consumer group, with its
 * own Kafka clients and its own share of the partitions, so one process keeps several cores busy (a
 * kafkajs consumer decodes every fetch on the thread that runs its pipeline). Scaling out is unchanged:
 * more processes, more threads, the group protocol spreads the partitions over all of them.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { spawnModuleWorker } from '../../connectors/threads/spawn-module-worker.js';
import type {
  FromStreamThread,
  StreamThreadData,
  ThreadMetrics,
  ThreadWorkerOptions,
  ToStreamThread,
} from './stream-thread-protocol.js';
import type { TopologyRef } from './topology-ref.js';
import type { CommittedCheckpoint } from './worker.js';

export interface StreamThreadsOptions {
  readonly threads: number;
  /** Each thread's instance id is this plus `-t<index>`. */
  readonly instanceId: string;
  readonly worker?: ThreadWorkerOptions;
  readonly maxDecompressedBatchBytes?: number;
  readonly logger: Logger;
}

/** How long stop() waits for the threads' graceful stop (each checkpoints and leaves the group). */
const STOP_WAIT_MS = 40_000;
/** How long a stopped thread gets to exit by itself (its last log lines still in flight) before it is ended. */
const EXIT_WAIT_MS = 2000;
/** How long a metrics scrape waits for a thread's answer before leaving it out. */
const METRICS_WAIT_MS = 2000;

interface Thread {
  readonly index: number;
  readonly worker: Worker;
  alive: boolean;
  member: boolean;
  readonly exited: Promise<number>;
  readonly stopped: Promise<void>;
}

export class StreamThreads {
  private threads: Thread[] = [];
  private readonly fatalHandlers: ((err: Error) => void)[] = [];
  private readonly committedListeners: ((committed: CommittedCheckpoint) => void)[] = [];
  private readonly pendingMetrics = new Map<number, (metrics: ThreadMetrics) => void>();
  private nextMetricsId = 1;
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly ref: TopologyRef,
    private readonly options: StreamThreadsOptions,
  ) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new RangeError(`stream threads must be a whole number >= 1, got ${options.threads}`);
    }
  }

  onFatal(handler: (err: Error) => void): void {
    this.fatalHandlers.push(handler);
  }

  /** Every checkpoint commit of every thread (partitions are spread over the threads). */
  onCommitted(listener: (committed: CommittedCheckpoint) => void): void {
    this.committedListeners.push(listener);
  }

  /** Every thread is up and not stopping (liveness). */
  get isAlive(): boolean {
    return !this.stopping && this.threads.length > 0 && this.threads.every((t) => t.alive);
  }

  /** Every thread holds its group assignment (readiness). */
  get isMember(): boolean {
    return this.threads.length > 0 && this.threads.every((t) => t.member);
  }

  /** Starts every thread; resolves once each has joined the group, rejects with the first failure. */
  async start(): Promise<void> {
    const started = Array.from({ length: this.options.threads }, (_, index) => this.spawn(index));
    try {
      await Promise.all(started);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Graceful: every thread checkpoints, commits and leaves the group; one that hangs is terminated. */
  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  /** The threads' metrics and the main thread's (`registry`), merged into one exposition. */
  async metrics(registry: Registry): Promise<string> {
    const perThread = await Promise.all(this.threads.map((t) => this.threadMetrics(t)));
    const merged = AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), ...perThread]);
    return merged.metrics();
  }

  private spawn(index: number): Promise<void> {
    const data: StreamThreadData = {
      ref: this.ref,
      index,
      instanceId: `${this.options.instanceId}-t${index}`,
      options: this.options.worker ?? {},
      ...(this.options.maxDecompressedBatchBytes !== undefined
        ? { maxDecompressedBatchBytes: this.options.maxDecompressedBatchBytes }
        : {}),
    };
    const worker = spawnModuleWorker(import.meta.url, './stream-thread', data);
    let resolveStopped: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (resolveStopped = r));
    const exited = new Promise<number>((r) => worker.once('exit', r));
    const thread: Thread = { index, worker, alive: true, member: false, exited, stopped };
    this.threads.push(thread);
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        if (thread.alive) this.options.logger.error({ err, thread: index }, 'stream thread failed');
        thread.alive = false;
        thread.member = false;
        reject(err);
        if (!this.stopping) for (const handler of this.fatalHandlers) handler(err);
      };
      worker.on('message', (message: FromStreamThread) => {
        switch (message.type) {
          case 'started':
            resolve();
            break;
          case 'state':
            thread.alive = message.alive;
            thread.member = message.member;
            break;
          case 'committed':
            for (const listener of this.committedListeners) listener(message);
            break;
          case 'metrics':
            this.pendingMetrics.get(message.id)?.(message.metrics);
            break;
          case 'stopped':
            resolveStopped();
            break;
          case 'fatal': {
            const err = new Error(`stream thread ${index}: ${message.message}`);
            if (message.stack) err.stack = `${err.message}\n(in the thread) ${message.stack}`;
            fail(err);
            break;
          }
        }
      });
      worker.on('error', (err) =>
        fail(new Error(`stream thread ${index} crashed: ${err.message}`, { cause: err })),
      );
      void exited.then((code) => {
        resolveStopped();
        const err = new Error(`stream thread ${index} exited (code ${code}) before it was stopped`);
        if (this.stopping)
          reject(err); // only a start still waiting hears of it
        else fail(err);
      });
    });
  }

  private threadMetrics(thread: Thread): Promise<ThreadMetrics> {
    const id = this.nextMetricsId++;
    return new Promise<ThreadMetrics>((resolve) => {
      const timer = setTimeout(() => done([]), METRICS_WAIT_MS);
      const done = (metrics: ThreadMetrics) => {
        clearTimeout(timer);
        this.pendingMetrics.delete(id);
        resolve(metrics);
      };
      this.pendingMetrics.set(id, done);
      this.send(thread, { type: 'metrics', id });
    });
  }

  private send(thread: Thread, message: ToStreamThread): void {
    try {
      thread.worker.postMessage(message);
    } catch {
      // The thread is gone: it has nothing more to say.
    }
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    for (const thread of this.threads) this.send(thread, { type: 'stop' });
    const deadline = new Promise<'late'>((r) => setTimeout(() => r('late'), STOP_WAIT_MS).unref());
    await Promise.all(
      this.threads.map(async (thread) => {
        if ((await Promise.race([thread.stopped, deadline])) === 'late') {
          this.options.logger.warn(
            { thread: thread.index },
            'stream thread did not stop in time; terminating it',
          );
        } else {
          await Promise.race([thread.exited, new Promise((r) => setTimeout(r, EXIT_WAIT_MS).unref())]);
        }
        await thread.worker.terminate();
      }),
    );
  }
}
