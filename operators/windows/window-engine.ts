import type { KeyValueStore } from '../../schemas/stream.js';
import type { WindowAssigner } from './assigner.js';
import { ClosingQueue } from './closing-queue.js';
import { fixedStrategy } from './fixed-strategy.js';
import { sessionStrategy } from './session-strategy.js';
import { slidingStrategy } from './sliding-strategy.js';
import type { AccumulatorOps, ClosedWindow, LateInfo, WindowStrategy } from './strategy.js';

export type { AccumulatorOps, ClosedWindow, LateInfo } from './strategy.js';

export interface WindowEngineOptions<In, Acc> {
  readonly assigner: WindowAssigner;
  readonly ops: AccumulatorOps<In, Acc>;
  /** How long after a window's end (in watermark time) records are still added to it. ms, >= 0. */
  readonly grace: number;
  /** The watermark trails the highest event time seen by this much. ms, >= 0. */
  readonly outOfOrderness: number;
  /**
   * Identifies the aggregate; stored with the assigner so state written by another configuration is
   * refused. grace and outOfOrderness may change between deploys (they only affect future closing).
   */
  readonly fingerprint?: string;
}

/** What one record did: it was late (and touched nothing), and/or it closed some windows. */
export interface EngineStep<Acc> {
  readonly late: LateInfo | null;
  /** Sorted by end, then start, then key: a deterministic order for replays. */
  readonly closed: readonly ClosedWindow<Acc>[];
}

/**
 * Partition-wide progress, one small store entry written at each flush. Updated in place: the store
 * serializes it only when a barrier captures it, so a fresh object per record would be garbage.
 */
interface Meta {
  readonly config: string;
  /** Highest event time seen, or null before the first record. */
  maxEventTime: number | null;
  /** Arrival sequence of the next admitted record (tie-break for `last`, fold order). */
  seq: number;
  lateCount: number;
}

const META_KEY = '#meta';

/** The step of most records (not late, nothing closed): shared, as it is returned once per record. */
const NOTHING_CLOSED: EngineStep<never> = Object.freeze({ late: null, closed: Object.freeze([]) });

/**
 * Event-time windows for one partition, with "emit final" semantics (like Kafka Streams' suppress
 * untilWindowCloses). Pure: no clock, no I/O. After flush() everything it knows is in the KeyValueStore,
 * so a new engine over a store restored from a checkpoint (taken after a flush) continues exactly where
 * the old one stopped.
 *
 * Per record, in arrival order: the watermark becomes max(event times seen) - outOfOrderness; if every
 * window the record could join is closed it is late (reported, state untouched, never dropped
 * silently); otherwise it is added; then every window with watermark >= its close time is emitted once
 * and deleted. Close time is end + grace (session: end + gap + grace, see session.ts).
 */
export class WindowEngine<In, Acc> {
  private readonly store: KeyValueStore<unknown>;
  private readonly strategy: WindowStrategy<In>;
  private readonly queue = new ClosingQueue();
  private readonly outOfOrderness: number;
  private meta: Meta;
  /** Handed to the aggregates on every add, which copy what they need (see Aggregator.add). */
  private readonly stamp = { eventTime: 0, seq: 0 };

  constructor(store: KeyValueStore<unknown>, options: WindowEngineOptions<In, Acc>) {
    for (const name of ['grace', 'outOfOrderness'] as const) {
      const value = options[name];
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(
          `WindowEngine ${name} must be whole non-negative milliseconds, got ${String(value)}`,
        );
      }
    }
    this.store = store;
    this.outOfOrderness = options.outOfOrderness;
    const config = `${options.assigner.describe} ${options.fingerprint ?? ''}`.trim();
    const context = { store, queue: this.queue, ops: options.ops, grace: options.grace };
    const { assigner } = options;
    this.strategy =
      assigner.kind === 'session'
        ? sessionStrategy(assigner, context)
        : assigner.kind === 'sliding'
          ? slidingStrategy(assigner, context)
          : fixedStrategy(assigner, context);
    const restored = store.get(META_KEY) as Meta | undefined;
    if (restored !== undefined && restored.config !== config) {
      throw new Error(
        `Window state in this store was written by "${restored.config}" but the stage is "${config}"; ` +
          'give the changed window stage a new `store` name, or reprocess the source with `sluice reset <topology>`',
      );
    }
    this.meta = restored ?? { config, maxEventTime: null, seq: 0, lateCount: 0 };
    const watermark = this.watermark;
    for (const key of store.keys()) if (key !== META_KEY) this.strategy.restore(key, watermark);
  }

  /** Writes what the store does not hold yet; call it before the store is captured for a checkpoint. */
  flush(): void {
    this.strategy.flush();
    this.store.put(META_KEY, this.meta);
  }

  /** max event time seen - outOfOrderness; -Infinity before the first record. */
  get watermark(): number {
    return this.meta.maxEventTime === null ? -Infinity : this.meta.maxEventTime - this.outOfOrderness;
  }

  /** Late records seen by this partition since its state began. */
  get lateCount(): number {
    return this.meta.lateCount;
  }

  /** Process one record. `eventTime` must be a safe integer (epoch ms); the stage checks this first. */
  process(key: string, eventTime: number, input: In): EngineStep<Acc> {
    if (!Number.isSafeInteger(eventTime)) {
      throw new RangeError(`event time must be whole epoch milliseconds, got ${String(eventTime)}`);
    }
    const before = this.watermark;
    const { maxEventTime, seq, lateCount } = this.meta;
    const max = maxEventTime === null ? eventTime : Math.max(maxEventTime, eventTime);
    const watermark = max - this.outOfOrderness;
    this.stamp.eventTime = eventTime;
    this.stamp.seq = seq;
    const late = this.strategy.add(key, eventTime, input, this.stamp, watermark);
    this.meta.maxEventTime = max;
    this.meta.seq = late ? seq : seq + 1;
    this.meta.lateCount = lateCount + (late ? 1 : 0);
    if (watermark <= before) return late === null ? NOTHING_CLOSED : { late, closed: [] };
    const closed = this.strategy.closeDue(watermark) as ClosedWindow<Acc>[];
    if (closed.length === 0) return late === null ? NOTHING_CLOSED : { late, closed: [] };
    closed.sort((a, b) => a.end - b.end || a.start - b.start || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { late, closed };
  }
}
