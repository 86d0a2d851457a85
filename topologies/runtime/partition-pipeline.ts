/**
 * One assigned source partition: its RxJS pipeline, its state stores, the barriers that checkpoint it,
 * and the bounded buffer that makes backpressure work. Records are fed only while fewer than
 * `maxOutstandingBarriers` checkpoints are unfinished, so memory is bounded whatever the input rate.
 */
import type { KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { Observable, merge, share, type Subscriber, type Subscription } from 'rxjs';
import { undecompressableBatchReason } from '../../connectors/kafka/compression/undecompressable.js';
import { stringHeaders } from '../../connectors/kafka/headers.js';
import type { SinkWriter } from '../../connectors/sink.js';
import type {
  Barrier,
  DeadLetterReason,
  Element,
  PartitionContext,
  RawRecord,
  SourcePosition,
  StreamRecord,
} from '../../schemas/stream.js';
import type { RawValue, Topology } from '../builder.js';
import { rawOf } from '../../operators/raw-of.js';
import { ChangelogStore, type ChangelogEntry } from './changelog-store.js';
import { sinkStage } from './sink-stage.js';

/** Changelog keys carry the store name, so one changelog topic serves every store of a topology. */
const STORE_SEPARATOR = '\u0000';
export const changelogKey = (store: string, key: string) => `${store}${STORE_SEPARATOR}${key}`;

/**
 * The source offset the partition's state reflects, written with every checkpoint into the same changelog
 * (and the same transaction) as the state. Restoring it from there, rather than from the group's committed
 * offset, makes state and position one atomic read: a commit that lands between the new owner's offset
 * fetch and its restore (possible without KIP-447 fencing in kafkajs) can no longer put the state ahead of
 * the position it resumes from, which would count events twice or report them late.
 */
export const POSITION_KEY = changelogKey('#position', 'next');

export interface CheckpointReady {
  readonly partition: number;
  readonly barrierId: number;
  readonly nextOffset: string;
  readonly changelog: readonly ChangelogEntry[];
}

/** A barrier every sink has acknowledged: its captured state and the side writes it must wait for. */
interface ReadyCheckpoint {
  readonly barrier: Barrier;
  readonly changelog: readonly ChangelogEntry[];
  readonly side: readonly Promise<void>[];
}

export interface PartitionPipelineOptions {
  readonly topology: Topology;
  readonly partition: number;
  /** Changelog contents restored for this partition (changelog key -> JSON). */
  readonly restored: ReadonlyMap<string, string>;
  readonly sinkWriters: readonly SinkWriter<unknown>[];
  readonly logger: Logger;
  readonly barrierEveryRecords: number;
  readonly barrierIntervalMs: number;
  /**
   * Once the partition has caught up with its input, checkpoint this soon after the last checkpoint
   * instead of waiting for `barrierIntervalMs` or `barrierEveryRecords` (defaults to barrierIntervalMs).
   */
  readonly caughtUpCheckpointMs?: number;
  readonly maxOutstandingBarriers: number;
  readonly sinkMaxBatch: number;
  readonly writeSide: (
    kind: 'dead-letter' | 'late',
    raw: RawRecord,
    reason: DeadLetterReason,
  ) => Promise<void>;
  /** Called in barrier order; resolves once the checkpoint is committed. */
  readonly commit: (checkpoint: CheckpointReady) => Promise<void>;
  readonly onCredit: () => void;
  readonly onFatal: (err: Error) => void;
}

export class PartitionPipeline {
  /**
   * The head of the pipeline. A plain Observable whose subscribers are called directly: an RxJS Subject
   * wraps every next() in an error-context closure and a copy of its observer list, per record.
   */
  private readonly inputs: Subscriber<Element<RawValue>>[] = [];
  private readonly input = new Observable<Element<RawValue>>((subscriber) => {
    this.inputs.push(subscriber);
    return () => {
      const i = this.inputs.indexOf(subscriber);
      if (i >= 0) this.inputs.splice(i, 1);
    };
  });
  private readonly stores = new Map<string, ChangelogStore<unknown>>();
  private readonly captured = new Map<number, ChangelogEntry[]>();
  /**
   * Fed but not yet past every sink, in offset order: the bytes behind dead letters. Counted absolutely:
   * held[0] is the heldBase-th message ever fed, and the first heldOut are released.
   */
  private held: KafkaMessage[] = [];
  private heldBase = 0;
  private heldOut = 0;
  /** Unfinished barriers: id -> how many messages had been fed before it (what its commit releases). */
  private readonly outstanding = new Map<number, number>();
  private readonly arrivals = new Map<number, number>();
  private pendingSide: Promise<void>[] = [];
  private buffer: KafkaMessage[] = [];
  private bufferHead = 0;
  private commitChain: Promise<void> = Promise.resolve();
  /** Checkpoints whose barrier every sink has passed, waiting for the commit in flight to finish. */
  private readyCheckpoints: ReadyCheckpoint[] = [];
  private committing = false;
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextBarrierId = 1;
  private sinceBarrier = 0;
  private lastBarrierAt = Date.now();
  /** The last fetched batch reached the end of the partition (see caughtUpCheckpointMs). */
  private caughtUp = false;
  private caughtUpTimer: NodeJS.Timeout | undefined;
  /** Offsets below this were already taken: a re-delivery after a rebalance is skipped, not counted twice. */
  private nextToTake: bigint | undefined;
  /** Offset of the last record fed; the next barrier resumes after it. */
  private lastFed: string | undefined;
  private disposed = false;
  private draining = false;
  /** The offset the last commit (or the restore) left the group at. */
  committedOffset: string | undefined;
  /** Until a batch fetched from exactly this offset arrives, fetched batches are refused (see startAt). */
  private alignTo: string | undefined;

  constructor(private readonly o: PartitionPipelineOptions) {}

  get partition(): number {
    return this.o.partition;
  }

  /** True while the buffer holds records that the credit does not allow feeding yet. */
  get saturated(): boolean {
    return this.bufferHead < this.buffer.length;
  }

  /** The position restored from the changelog, or undefined for state written before positions were. */
  get restoredPosition(): string | undefined {
    const json = this.o.restored.get(POSITION_KEY);
    return json === undefined ? undefined : (JSON.parse(json) as string);
  }

  /**
   * Resumes at `offset`: the worker seeks the consumer there, and any batch fetched before the seek (from
   * another position) is refused, so no record is skipped or fed twice.
   */
  startAt(offset: string): void {
    this.alignTo = offset;
    this.nextToTake = BigInt(offset);
  }

  /** The offset the next fetched record should have (after the last one taken, or the resume position). */
  get nextOffsetToTake(): bigint | undefined {
    return this.nextToTake;
  }

  /**
   * Undefined when a batch fetched from `fetchedOffset` may be fed (the first such one ends the alignment),
   * else the offset the consumer must be fetching from instead.
   */
  misalignedFetch(fetchedOffset: string | undefined): string | undefined {
    // An unknown fetch offset (a kafkajs without Batch.fetchedOffset) cannot be checked: accept it.
    if (this.alignTo === undefined || fetchedOffset === undefined) return undefined;
    if (fetchedOffset !== this.alignTo) return this.alignTo;
    this.alignTo = undefined;
    return undefined;
  }

  get outstandingBarriers(): number {
    return this.outstanding.size;
  }

  /** Records held in memory: fetched but not fed, plus fed but not yet past every sink. */
  get heldRecords(): number {
    return this.buffer.length - this.bufferHead + (this.heldIn - this.heldOut);
  }

  /** Messages ever fed to this pipeline. */
  private get heldIn(): number {
    return this.heldBase + this.held.length;
  }

  start(): void {
    const ctx = this.context();
    const reject = (record: StreamRecord<unknown>, reason: DeadLetterReason) =>
      this.trackSide(this.o.writeSide('dead-letter', rawOf(ctx, record), reason));
    let stream: Observable<Element<unknown>> = this.input;
    for (const stage of this.o.topology.stages) stream = stream.pipe(stage(ctx));
    // share() multicasts through a Subject, which wraps every element in an error-context closure and
    // iterates its observer list; a topology with one sink (most) needs no multicast.
    const shared = this.o.sinkWriters.length === 1 ? stream : stream.pipe(share());
    const branches = this.o.sinkWriters.map((writer, i) =>
      shared.pipe(
        sinkStage(writer, {
          name: this.o.topology.sinks[i]?.name ?? `sink-${i}`,
          maxBatch: this.o.sinkMaxBatch,
          logger: this.o.logger,
          reject,
        }),
      ),
    );
    this.subscription = merge(...branches).subscribe({
      next: (barrier) => this.onBarrierArrived(barrier),
      error: (err: unknown) => this.fail(err),
    });
    this.timer = setInterval(() => this.onTimer(), Math.max(50, Math.floor(this.o.barrierIntervalMs / 2)));
    this.timer.unref();
  }

  /**
   * Takes a fetched batch (already in offset order). `caughtUp`: the batch ends at the partition's high
   * watermark, so no backlog is waiting and an early checkpoint costs no throughput.
   */
  enqueue(messages: readonly KafkaMessage[], caughtUp = false): void {
    if (this.disposed) return;
    this.caughtUp = caughtUp;
    if (messages.length === 0) return;
    const floor = this.nextToTake;
    // Offsets rise within a batch, so one comparison usually clears all of it (parsing every offset into a
    // BigInt would cost more than the rest of the hand-over).
    const fresh =
      floor === undefined || BigInt((messages[0] as KafkaMessage).offset) >= floor
        ? messages
        : messages.filter((m) => BigInt(m.offset) >= floor);
    if (fresh.length === 0) return;
    for (const m of fresh) this.buffer.push(m);
    this.nextToTake = BigInt((fresh[fresh.length - 1] as KafkaMessage).offset) + 1n;
    this.drain();
  }

  /** Stops feeding and forgets everything uncommitted: used on revoke and on fatal errors. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.caughtUpTimer) clearTimeout(this.caughtUpTimer);
    this.subscription?.unsubscribe();
    this.buffer = [];
    this.bufferHead = 0;
  }

  /** Graceful end: checkpoints what was fed and waits for it to commit. */
  async close(): Promise<void> {
    if (this.disposed) return;
    if (this.sinceBarrier > 0) this.emitBarrier();
    const deadline = Date.now() + 30_000;
    while (this.outstanding.size > 0 && !this.disposed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.commitChain;
    this.dispose();
  }

  private context(): PartitionContext {
    const o = this.o;
    const ctx: PartitionContext = {
      topology: o.topology.name,
      topic: o.topology.source.topic,
      partition: o.partition,
      store: <V>(name: string) => {
        let store = this.stores.get(name);
        if (!store) {
          const prefix = `${name}${STORE_SEPARATOR}`;
          const restored = new Map<string, string>();
          for (const [k, v] of o.restored) if (k.startsWith(prefix)) restored.set(k.slice(prefix.length), v);
          store = new ChangelogStore<unknown>(name, restored);
          this.stores.set(name, store);
        }
        return store as ChangelogStore<V>;
      },
      captureState: (barrier: Barrier) => {
        const list = this.captured.get(barrier.id) ?? [];
        for (const [name, store] of this.stores) {
          for (const e of store.capture()) list.push({ key: changelogKey(name, e.key), value: e.value });
        }
        this.captured.set(barrier.id, list);
      },
      side: {
        deadLetter: (raw, reason) => this.trackSide(o.writeSide('dead-letter', raw, reason)),
        late: (record, reason) => {
          this.trackSide(o.writeSide('late', rawOf(ctx, record), reason));
        },
      },
      raw: (position: SourcePosition) => {
        const message = this.heldMessage(position.offset);
        return message === undefined ? undefined : rawRecord(message, position);
      },
    };
    return ctx;
  }

  private trackSide(write: Promise<void>): void {
    // A failed side write must fail the checkpoint it belongs to, never vanish.
    this.pendingSide.push(write);
    write.catch(() => undefined);
  }

  private drain(): void {
    if (this.draining) return; // re-entrancy: a synchronous pipeline can hand back credit mid-feed
    this.draining = true;
    try {
      while (
        !this.disposed &&
        this.bufferHead < this.buffer.length &&
        this.outstanding.size < this.o.maxOutstandingBarriers
      ) {
        const message = this.buffer[this.bufferHead++] as KafkaMessage;
        this.feed(message);
      }
      if (this.bufferHead >= this.buffer.length) {
        this.buffer = [];
        this.bufferHead = 0;
      } else if (this.bufferHead > 4096) {
        this.buffer = this.buffer.slice(this.bufferHead);
        this.bufferHead = 0;
      }
    } finally {
      this.draining = false;
    }
    if (this.caughtUp) this.scheduleCaughtUpCheckpoint();
  }

  /**
   * A caught-up partition checkpoints `caughtUpCheckpointMs` after its last checkpoint (and once that one
   * has committed): its offsets and state catch up promptly (a crash replays little), while a partition
   * with a backlog keeps taking few, large checkpoints (each rewrites every key changed since the last,
   * so many small ones multiply the changelog writes).
   */
  private scheduleCaughtUpCheckpoint(): void {
    if (this.caughtUpTimer || this.disposed || this.sinceBarrier === 0) return;
    const spacing = this.o.caughtUpCheckpointMs ?? this.o.barrierIntervalMs;
    const wait = Math.max(0, this.lastBarrierAt + spacing - Date.now());
    this.caughtUpTimer = setTimeout(() => {
      this.caughtUpTimer = undefined;
      if (this.disposed || !this.caughtUp || this.sinceBarrier === 0) return;
      if (Date.now() - this.lastBarrierAt < spacing) return this.scheduleCaughtUpCheckpoint();
      // Still feeding a fetched backlog, or a checkpoint is unfinished: drain() calls back here after the
      // commit. Early checkpoints never stack up, so they cannot use up the credit and pause the partition.
      if (this.bufferHead < this.buffer.length || this.outstanding.size > 0) return;
      this.emitBarrier();
    }, wait);
    this.caughtUpTimer.unref();
  }

  private feed(message: KafkaMessage): void {
    this.lastFed = message.offset;
    const source: SourcePosition = {
      topic: this.o.topology.source.topic,
      partition: this.o.partition,
      offset: message.offset,
      timestamp: Number(message.timestamp),
    };
    this.held.push(message);
    const undecompressable = undecompressableBatchReason(message);
    if (undecompressable !== undefined) {
      this.trackSide(this.o.writeSide('dead-letter', rawRecord(message, source), undecompressable));
    } else {
      this.pushRecord(message, source);
    }
    this.sinceBarrier += 1;
    if (this.sinceBarrier >= this.o.barrierEveryRecords) this.emitBarrier();
  }

  private pushRecord(message: KafkaMessage, source: SourcePosition): void {
    this.push({
      kind: 'record',
      value: message.value ?? null,
      key: message.key ? message.key.toString('utf8') : null,
      eventTime: source.timestamp,
      source,
      headers: stringHeaders(message.headers),
    });
  }

  private push(element: Element<RawValue>): void {
    const inputs = this.inputs;
    for (let i = 0; i < inputs.length; i += 1) (inputs[i] as Subscriber<Element<RawValue>>).next(element);
  }

  private onTimer(): void {
    if (this.disposed) return;
    if (
      this.sinceBarrier > 0 &&
      Date.now() - this.lastBarrierAt >= this.o.barrierIntervalMs &&
      this.outstanding.size < this.o.maxOutstandingBarriers
    ) {
      this.emitBarrier();
    }
  }

  private emitBarrier(): void {
    if (this.lastFed === undefined) return;
    const barrier: Barrier = {
      kind: 'barrier',
      id: this.nextBarrierId++,
      partition: this.o.partition,
      nextOffset: (BigInt(this.lastFed) + 1n).toString(),
    };
    this.sinceBarrier = 0;
    this.lastBarrierAt = Date.now();
    this.outstanding.set(barrier.id, this.heldIn);
    this.push(barrier);
  }

  private onBarrierArrived(barrier: Barrier): void {
    const seen = (this.arrivals.get(barrier.id) ?? 0) + 1;
    if (seen < this.o.sinkWriters.length) {
      this.arrivals.set(barrier.id, seen);
      return;
    }
    this.arrivals.delete(barrier.id);
    // Every record before the barrier has left every stage and sink: no dead letter can ask for its bytes
    // any more. Releasing them now, not at the commit, keeps far fewer fetched messages alive under load
    // (each one that outlives a young-generation collection is copied, then promoted).
    this.release(this.outstanding.get(barrier.id) ?? this.heldOut);
    this.readyCheckpoints.push({
      barrier,
      changelog: this.captured.get(barrier.id) ?? [],
      side: this.pendingSide,
    });
    this.pendingSide = [];
    this.captured.delete(barrier.id);
    this.commitReady();
  }

  /**
   * One commit in flight per partition; checkpoints that become ready meanwhile go out together in the
   * next one (a transaction costs several round trips, so a backlog would otherwise commit barrier by
   * barrier and trail far behind the records it covers).
   */
  private commitReady(): void {
    if (this.committing || this.readyCheckpoints.length === 0 || this.disposed) return;
    const ready = this.readyCheckpoints.splice(0);
    const last = (ready[ready.length - 1] as ReadyCheckpoint).barrier;
    this.committing = true;
    this.commitChain = (async () => {
      await Promise.all(ready.flatMap((r) => r.side));
      if (this.disposed) return;
      await this.o.commit({
        partition: this.o.partition,
        barrierId: last.id,
        nextOffset: last.nextOffset,
        changelog: mergedChangelog(ready, last.nextOffset),
      });
      this.committedOffset = last.nextOffset;
      // Their messages were released when the barriers passed the sinks; their credit returns now.
      for (const { barrier } of ready) this.outstanding.delete(barrier.id);
      this.committing = false;
      this.drain();
      this.o.onCredit();
      this.commitReady();
    })().catch((err: unknown) => this.fail(err));
  }

  /** Forgets the held messages fed before a barrier that passed every sink; compacts the array now and then. */
  private release(upTo: number): void {
    this.heldOut = Math.max(this.heldOut, upTo);
    const dead = this.heldOut - this.heldBase;
    if (dead > 4096 && dead * 2 > this.held.length) {
      this.held = this.held.slice(dead);
      this.heldBase = this.heldOut;
    }
  }

  /** The held message at `offset` (binary search: offsets rise, though not always by one). */
  private heldMessage(offset: string): KafkaMessage | undefined {
    let lo = this.heldOut - this.heldBase;
    let hi = this.held.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const message = this.held[mid] as KafkaMessage;
      const order = compareOffsets(message.offset, offset);
      if (order === 0) return message;
      if (order < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private fail(err: unknown): void {
    if (this.disposed) return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.o.logger.error({ partition: this.o.partition, err: error }, 'partition pipeline failed');
    this.dispose();
    this.o.onFatal(error);
  }
}

/**
 * The changelog of checkpoints committed together: a key written by several keeps its latest value (they
 * come in barrier order), and the position is the last barrier's.
 */
function mergedChangelog(ready: readonly ReadyCheckpoint[], nextOffset: string): ChangelogEntry[] {
  const position: ChangelogEntry = { key: POSITION_KEY, value: JSON.stringify(nextOffset) };
  if (ready.length === 1) return [...(ready[0] as ReadyCheckpoint).changelog, position];
  const latest = new Map<string, string | null>();
  for (const r of ready) for (const e of r.changelog) latest.set(e.key, e.value);
  const merged: ChangelogEntry[] = [];
  for (const [key, value] of latest) merged.push({ key, value });
  merged.push(position);
  return merged;
}

function rawRecord(message: KafkaMessage, source: SourcePosition): RawRecord {
  return {
    key: message.key ?? null,
    value: message.value ?? null,
    headers: stringHeaders(message.headers),
    source,
  };
}

/** Orders decimal offset strings (no leading zeros) without parsing them. */
function compareOffsets(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
