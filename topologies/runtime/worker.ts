/**
 * Runs one topology as a member of its Kafka consumer group. Partitions are the unit of parallelism: to
 * scale out, start more workers and the group protocol spreads the partitions; each newly assigned
 * partition's state is restored from the changelog before its first record is processed.
 */
import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Endpoints } from '../../connectors/config/endpoints.js';
import { sharedMetric } from '../../connectors/metrics.js';
import { restoreChangelog } from '../../connectors/kafka/changelog-restore.js';
import { rootLogger } from '../../connectors/kafka/client.js';
import { deadLetterTopic, lateTopic, writeDeadLetter } from '../../connectors/kafka/dead-letter.js';
import { ensureTopics, partitionCount, TopicConfigError } from '../../connectors/kafka/topics.js';
import { changelogTopic, checkCoPartitioned } from '../../connectors/kafka/co-partitioned.js';
import { checkChangelogPolicy } from '../../connectors/kafka/changelog-policy.js';
import { reportRetentionLoss, resumableOffset, type Resumable } from './retention-gap.js';
import { TransactionalCommitter } from '../../connectors/kafka/transactional-commit.js';
import type { SinkWriter } from '../../connectors/sink.js';
import type { DeadLetterReason, RawRecord } from '../../schemas/stream.js';
import type { Topology } from '../builder.js';
import { PartitionPipeline, type CheckpointReady } from './partition-pipeline.js';
import { InFlight } from './in-flight.js';

/** A checkpoint that committed: the partition's state and its next offset to read, in one transaction. */
export interface CommittedCheckpoint {
  readonly partition: number;
  readonly nextOffset: string;
}

export interface WorkerOptions {
  /**
   * Stable per worker instance (e.g. the pod name): names its clients and logs. Fencing does not rely on it
   * (each source partition has its own transactional id; see openCommitter).
   */
  readonly instanceId: string;
  readonly kafka: Kafka;
  readonly endpoints: Endpoints;
  readonly logger?: Logger;
  /**
   * A checkpoint is taken every `barrierIntervalMs` (default 500) or every `barrierEveryRecords` (default
   * 10,000) records of a partition, whichever comes first. Each checkpoint rewrites the keys changed since
   * the last one, so checkpointing by a small count under load multiplies changelog writes; the count only
   * bounds the records held for dead letters (count x maxOutstandingBarriers per partition).
   */
  readonly barrierEveryRecords?: number;
  readonly barrierIntervalMs?: number;
  /**
   * A partition whose last fetch reached its end checkpoints this soon after its last checkpoint (default
   * 100 ms, Kafka Streams' commit interval under exactly-once, capped at barrierIntervalMs): offsets and
   * state are committed promptly once the input is caught up, without more, smaller checkpoints under load.
   */
  readonly caughtUpCheckpointMs?: number;
  readonly maxOutstandingBarriers?: number;
  /** Most records per sink write (default DEFAULT_SINK_MAX_BATCH). */
  readonly sinkMaxBatch?: number;
  /** Fetch size per partition (default 1 MiB, the Java consumer's max.partition.fetch.bytes). */
  readonly maxBytesPerPartition?: number;
  readonly sessionTimeoutMs?: number;
  readonly transactionTimeoutMs?: number;
}

/**
 * Most records one sink write takes. A sink writes as soon as its input goes idle (sink-stage.ts), so this
 * bounds writes only under load, where each write has a fixed cost (a produce request, a Redis pipeline,
 * a ClickHouse INSERT): with one result per input record, 5,000 instead of 500 took the bench topology
 * from about 130k to about 150k events/s (test/bench). Kafka writes are still cut into requests of at
 * most 512 KiB (kafka-sink.ts).
 */
export const DEFAULT_SINK_MAX_BATCH = 5000;

/** How often a long state restore logs how far it got. */
const RESTORE_PROGRESS_EVERY_MS = 5000;
/** How long stop() waits for restores of an assignment a consumer crash dropped. */
const DROPPED_RESTORE_WAIT_MS = 5000;
/** How long stop() lets sink and side writes under way settle before it closes the producers. */
const WRITES_SETTLE_WAIT_MS = 15_000;

const recordsIn = sharedMetric(
  'sluice_records_in_total',
  () =>
    new Counter({
      name: 'sluice_records_in_total',
      help: 'Records fetched from a source partition',
      labelNames: ['topology', 'partition'],
    }),
);
const commitSeconds = sharedMetric(
  'sluice_checkpoint_commit_seconds',
  () =>
    new Histogram({
      name: 'sluice_checkpoint_commit_seconds',
      help: 'Time to commit state and offsets in one Kafka transaction',
      labelNames: ['topology'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
);
const consumerLag = sharedMetric(
  'sluice_consumer_lag',
  () =>
    new Gauge({
      name: 'sluice_consumer_lag',
      help: 'Records between the last fetched offset and the partition end',
      labelNames: ['topology', 'partition'],
    }),
);
const pausedPartitions = sharedMetric(
  'sluice_paused_partitions',
  () =>
    new Gauge({
      name: 'sluice_paused_partitions',
      help: 'Source partitions paused by backpressure',
      labelNames: ['topology'],
    }),
);

export class TopologyWorker {
  private readonly logger: Logger;
  private readonly groupId: string;
  private readonly changelogTopic: string;
  /** The source's partition count the co-partitioned topics were last checked against. */
  private sourcePartitions = 0;
  private readonly pipelines = new Map<number, PartitionPipeline>();
  private readonly ready = new Map<number, Promise<PartitionPipeline | undefined>>();
  private readonly paused = new Set<number>();
  private admin!: Admin;
  private consumer!: Consumer;
  private producer!: Producer;
  /** One transactional producer per owned source partition (see partitionTransactionalId). */
  private readonly committers = new Map<number, TransactionalCommitter>();
  private writers: SinkWriter<unknown>[] = [];
  private assignment = new Set<number>();
  private generation = 0;
  private pendingCommits: {
    checkpoint: CheckpointReady;
    pipeline: PartitionPipeline;
    done: (e?: Error) => void;
  }[] = [];
  /** True while an assignment is being applied: commits wait, so offsets read meanwhile are final. */
  private assigning = false;
  /** State restores under way: stop() waits for them before closing what they open (see InFlight). */
  private readonly restores = new InFlight();
  /** Sink and side writes under way, including those of pipelines already dropped (see InFlight). */
  private readonly writesInFlight = new InFlight();
  /** The assignment being applied (fencing, restoring), which stop() lets finish before closing. */
  private assignmentWork: Promise<void> = Promise.resolve();
  /** False from a rebalance or crash until the next assignment: we may not own anything meanwhile. */
  private member = false;
  private lastHeartbeatAt = 0;
  private readonly commitsInFlight = new Set<Promise<void>>();
  private stopping = false;
  /** The start under way (or done): stop() lets it finish, so it closes everything the start opened. */
  private starting: Promise<void> | undefined;
  /** The stop under way: every caller of stop() waits for the same one. */
  private stopped: Promise<void> | undefined;
  private fatalHandlers: ((err: Error) => void)[] = [];
  private committedListeners: ((committed: CommittedCheckpoint) => void)[] = [];

  constructor(
    readonly topology: Topology,
    private readonly options: WorkerOptions,
  ) {
    this.groupId = topology.options.groupId ?? topology.name;
    this.changelogTopic = changelogTopic(topology.name);
    this.logger = (options.logger ?? rootLogger).child({
      topology: topology.name,
      instance: options.instanceId,
    });
  }

  onFatal(handler: (err: Error) => void): void {
    this.fatalHandlers.push(handler);
  }

  /** Called after each checkpoint commit (state and offset in one transaction) has succeeded. */
  onCommitted(listener: (committed: CommittedCheckpoint) => void): void {
    this.committedListeners.push(listener);
  }

  /** The partitions this worker owns right now (for status and tests). */
  get assignedPartitions(): number[] {
    return [...this.assignment].sort((a, b) => a - b);
  }

  /** Records this worker holds in memory across its partitions (bounded by backpressure). */
  get heldRecords(): number {
    let n = 0;
    for (const p of this.pipelines.values()) n += p.heldRecords;
    return n;
  }

  /** A group member with its assignment applied (readiness). */
  get isMember(): boolean {
    return this.member && !this.assigning;
  }

  /** Not stopping and not failed (liveness). */
  get isAlive(): boolean {
    return !this.stopping && !this.failed;
  }

  /** Partitions currently paused because their pipeline is behind. */
  get pausedPartitionCount(): number {
    return this.paused.size;
  }

  async start(): Promise<void> {
    this.starting = this.startUp();
    try {
      await this.starting;
    } catch (err) {
      // A refused start (a missing source, misfit topics) must not leave its clients connected: they
      // would keep an embedding process alive.
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  private async startUp(): Promise<void> {
    const { kafka } = this.options;
    const t = this.topology;
    this.admin = kafka.admin();
    await this.admin.connect();
    const partitions = await partitionCount(this.admin, t.source.topic);
    if (partitions === undefined) {
      throw new TopicConfigError(
        `source topic ${t.source.topic} of topology ${t.name} does not exist; create it first ` +
          `(e.g. \`sluice topics create ${t.source.topic} --partitions 6\`) or point the topology at an existing topic`,
      );
    }
    await checkCoPartitioned(this.admin, t.name, t.source.topic, partitions);
    this.sourcePartitions = partitions;
    await ensureTopics(this.admin, [
      { topic: this.changelogTopic, numPartitions: partitions, compacted: true },
      { topic: deadLetterTopic(t.name), numPartitions: partitions },
      { topic: lateTopic(t.name), numPartitions: partitions },
      ...t.sinks.flatMap((s) =>
        (s.topics ?? []).map((x) => ({
          topic: x.topic,
          numPartitions: x.numPartitions ?? partitions,
          compacted: x.compacted ?? false,
        })),
      ),
    ]);

    await checkChangelogPolicy(this.admin, t.name, this.changelogTopic);

    // stop() called meanwhile: connect nothing more (it closes what is already open once this returns).
    if (this.stopping) return;
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    const env = {
      topology: t.name,
      kafka,
      producer: this.producer,
      endpoints: this.options.endpoints,
      logger: this.logger,
    };
    // Tracked once here, so that every pipeline's writes count (see InFlight).
    this.writers = (await Promise.all(t.sinks.map((s) => s.open(env)))).map((w) =>
      this.writesInFlight.writer(w),
    );
    if (this.stopping) return;

    this.consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 1000,
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 1024 * 1024,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
      // A connection torn down by stop() crashes the fetch loop; kafkajs would restart it as a new member
      // that nobody stops again.
      retry: { restartOnFailure: async () => !this.stopping },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      // A kafkajs restart already under way when stop() disconnected (after a crash) connects and joins
      // anyway: leave again, or a member nobody owns keeps the group and the process.
      if (this.stopping) return void this.consumer.disconnect().catch(() => undefined);
      this.assignmentWork = this.onAssignment(payload.memberAssignment[t.source.topic] ?? []).catch(
        (err: unknown) => this.fatal(err instanceof Error ? err : new Error(String(err))),
      );
    });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      consumerLag.set({ topology: t.name, partition: String(payload.partition) }, Number(payload.offsetLag));
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (this.stopping) return; // a connection stop() tore down: not a failure, and not restarted
      // kafkajs restarts a crashed consumer as a new member: whatever we held may be owned by another
      // worker by the time it rejoins, so drop it all and restore on the next assignment.
      this.suspendMembership('consumer crashed');
      this.dropAllPipelines();
      if (!payload.restart) this.fatal(payload.error);
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => this.suspendMembership('rebalancing'));
    this.consumer.on(this.consumer.events.HEARTBEAT, () => {
      this.lastHeartbeatAt = Date.now();
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: t.source.topic, fromBeginning: t.source.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.min(partitions, 8),
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.logger.info({ partitions, groupId: this.groupId }, 'topology worker started');
  }

  /** Graceful stop: checkpoint what was fed, commit it, leave the group. */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopping = true;
    this.stopped = this.shutDown();
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    // A start still under way would go on connecting clients after the teardown below, and they would
    // keep the process alive: let it finish (it stops early once it sees `stopping`), then close it all.
    await this.starting?.catch(() => undefined);
    try {
      this.consumer?.pause([{ topic: this.topology.source.topic }]);
    } catch {
      // A crashed consumer has no group to pause until its restart; disconnect() below cancels that restart.
    }
    // An assignment still being applied opens producers and pipelines: let it finish, so that everything
    // it opened is closed below (otherwise they outlive stop() and keep the process alive).
    await this.assignmentWork;
    await Promise.allSettled([...this.ready.values()]);
    // Restores a consumer crash dropped: give them a moment to open their producers, so that the close
    // below comes after (not under) them. Bounded, because one can wait on the broker indefinitely (a
    // transactional id another worker is fencing); cut short, it fails quietly (see applyAssignment).
    await this.restores.settled(DROPPED_RESTORE_WAIT_MS);
    await Promise.all([...this.pipelines.values()].map((p) => p.close()));
    await this.consumer?.disconnect().catch(() => undefined);
    // Pipelines are all disposed by now, so no write starts again. A write still under way is let finish:
    // closed under it, it would fail (the patched kafkajs refuses to reconnect a disconnected producer)
    // and its records would only be replayed after a restart.
    if (!(await this.writesInFlight.settled(WRITES_SETTLE_WAIT_MS))) {
      this.logger.warn(
        { writes: this.writesInFlight.size, waitedMs: WRITES_SETTLE_WAIT_MS },
        'sink writes still under way at stop; closing their clients anyway (those writes fail, and are replayed from the last commit)',
      );
    }
    await Promise.all(this.writers.map((w) => w.close().catch(() => undefined)));
    await Promise.all([...this.committers.values()].map((c) => c.close().catch(() => undefined)));
    this.committers.clear();
    await this.producer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    // Last: a stage may use these until its pipeline is closed and its records committed.
    await this.topology.closeResources?.().catch((err: unknown) => {
      this.logger.warn({ err }, 'closing the resources of the topology failed');
    });
    this.logger.info('topology worker stopped');
  }

  private async onAssignment(partitions: number[]): Promise<void> {
    if (this.stopping) return;
    this.assigning = true;
    try {
      await this.refuseUnalignedPartitions(partitions);
      // With no commit in flight, the group's offsets read below are exactly what we (or another owner)
      // committed, so a partition whose offset is not ours really was processed elsewhere.
      await this.commitsIdle();
      await this.applyAssignment(partitions);
    } finally {
      this.assigning = false;
      this.member = true;
      this.lastHeartbeatAt = Date.now();
      this.flushCommits();
    }
  }

  /**
   * A partition added to the source while the worker ran has no changelog, dead-letter or late partition
   * until the operator aligns them: fail (naming the command) before a pipeline could write to it. Kafka
   * clients used to drop records sent to a missing partition without an error (see patches/README.md).
   */
  private async refuseUnalignedPartitions(partitions: readonly number[]): Promise<void> {
    if (partitions.every((p) => p < this.sourcePartitions)) return;
    const t = this.topology;
    const sourcePartitions = (await partitionCount(this.admin, t.source.topic)) ?? 0;
    await checkCoPartitioned(this.admin, t.name, t.source.topic, sourcePartitions);
    this.sourcePartitions = sourcePartitions;
  }

  private async applyAssignment(partitions: number[]): Promise<void> {
    this.generation += 1;
    const next = new Set(partitions);
    const topic = this.topology.source.topic;
    for (const [p, pipeline] of this.pipelines) {
      if (!next.has(p)) this.forgetPartition(p, pipeline);
    }
    this.assignment = next;
    // A partition we kept may have been owned by someone else in a generation we missed (e.g. after a
    // long GC pause): if the group's committed offset is not ours, our in-memory state is stale.
    const committed = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
    const offsets = new Map((committed[0]?.partitions ?? []).map((x) => [x.partition, x.offset]));
    for (const [p, pipeline] of this.pipelines) {
      const groupOffset = offsets.get(p);
      const elsewhere =
        groupOffset !== undefined &&
        groupOffset !== '-1' &&
        (pipeline.committedOffset === undefined || BigInt(groupOffset) > BigInt(pipeline.committedOffset));
      if (elsewhere) {
        this.logger.warn(
          { partition: p, groupOffset, ours: pipeline.committedOffset },
          'stale partition; restoring',
        );
        this.forgetPartition(p, pipeline);
      }
    }
    const fresh = partitions.filter((p) => !this.ready.has(p));
    const restoreStarted = Date.now();
    // A large state takes a while: say how far it got every few seconds, not only when it is done.
    let progressLoggedAt = Date.now();
    const onProgress = ({ messages, pending }: { messages: number; pending: readonly number[] }) => {
      if (Date.now() - progressLoggedAt < RESTORE_PROGRESS_EVERY_MS) return;
      progressLoggedAt = Date.now();
      this.logger.info(
        { partitions: fresh, pending, messages, ms: Date.now() - restoreStarted },
        'restoring state from the changelog',
      );
    };
    // Fence first, restore second: once this worker holds a partition's transactional id, no earlier
    // owner can commit state or offsets for it, so the restore below reads that partition's final word.
    const restoring = Promise.all(fresh.map((p) => this.openCommitter(p))).then(() =>
      restoreChangelog(this.options.kafka, this.changelogTopic, fresh, { onProgress }),
    );
    const restored = restoring.then(
      (restored) => {
        const entries = [...restored.values()].reduce((n, m) => n + m.size, 0);
        if (fresh.length > 0) {
          this.logger.info(
            { partitions: fresh, entries, ms: Date.now() - restoreStarted },
            'state restored from the changelog',
          );
        }
        return restored;
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        if (!this.stopping) {
          this.logger.error({ partitions: fresh, err: error }, 'state restore failed');
          this.fatal(error);
        }
        throw error;
      },
    );
    // stop() waits for restores under way: ready promises are dropped when the consumer crashes, but the
    // producers a restore opens must still be closed after it, not torn down under it.
    void this.restores.track(restored);
    for (const p of fresh) {
      const generation = this.generation;
      const ready = restored.then((restored) => {
        if (generation !== this.generation && !this.assignment.has(p)) return undefined;
        const pipeline = this.createPipeline(p, restored.get(p) ?? new Map());
        const groupOffset = offsets.get(p);
        if (groupOffset !== undefined && groupOffset !== '-1') pipeline.committedOffset = groupOffset;
        this.resumePosition(pipeline, groupOffset);
        this.pipelines.set(p, pipeline);
        pipeline.start();
        return pipeline;
      });
      // Its failure is reported above (fatal); a promise dropped with its assignment must not also
      // surface as an unhandled rejection.
      ready.catch(() => undefined);
      this.ready.set(p, ready);
    }
    this.logger.info({ partitions: this.assignedPartitions, restoring: fresh }, 'partitions assigned');
    pausedPartitions.set({ topology: this.topology.name }, this.paused.size);
  }

  /**
   * Seeks the consumer to the offset the restored state reflects. The group's committed offset is only the
   * fallback (state written before positions were): it is fetched separately from the restore, so it can
   * disagree with the state when another owner's commit lands in between.
   */
  private resumePosition(pipeline: PartitionPipeline, groupOffset: string | undefined): void {
    const group = groupOffset !== undefined && groupOffset !== '-1' ? groupOffset : undefined;
    const position = pipeline.restoredPosition ?? group;
    if (position === undefined) return;
    if (group !== undefined && position !== group) {
      this.logger.warn(
        { partition: pipeline.partition, statePosition: position, groupOffset: group },
        "the group's committed offset differs from the restored state's position; resuming at the state's",
      );
    }
    pipeline.startAt(position);
    this.consumer.seek({
      topic: this.topology.source.topic,
      partition: pipeline.partition,
      offset: position,
    });
  }

  private createPipeline(partition: number, restored: Map<string, string>): PartitionPipeline {
    const t = this.topology;
    const barrierIntervalMs = this.options.barrierIntervalMs ?? 500;
    const pipeline: PartitionPipeline = new PartitionPipeline({
      topology: t,
      partition,
      restored,
      sinkWriters: this.writers,
      logger: this.logger,
      barrierEveryRecords: this.options.barrierEveryRecords ?? 10_000,
      barrierIntervalMs,
      caughtUpCheckpointMs: Math.min(this.options.caughtUpCheckpointMs ?? 100, barrierIntervalMs),
      maxOutstandingBarriers: this.options.maxOutstandingBarriers ?? 4,
      sinkMaxBatch: this.options.sinkMaxBatch ?? DEFAULT_SINK_MAX_BATCH,
      writeSide: (kind, raw, reason) => this.writeSide(kind, raw, reason),
      commit: (checkpoint) => this.requestCommit(checkpoint, pipeline),
      onCredit: () => {
        if (this.paused.has(partition) && !pipeline.saturated) {
          this.paused.delete(partition);
          this.consumer.resume([{ topic: t.source.topic, partitions: [partition] }]);
          pausedPartitions.set({ topology: t.name }, this.paused.size);
        }
      },
      onFatal: (err) => this.fatal(err),
    });
    return pipeline;
  }

  private async onBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const pipeline = await this.ready.get(batch.partition);
    if (!pipeline || !isRunning() || isStale() || this.stopping) return;
    if (this.pipelines.get(batch.partition) !== pipeline) return;
    // kafkajs' Batch carries the offset it was fetched from, though its typings omit it.
    const fetchedOffset = (batch as { fetchedOffset?: string }).fetchedOffset;
    const misaligned = pipeline.misalignedFetch(fetchedOffset);
    // Where the partition goes on from: the resume position while aligning, else the next record. Only a
    // fetch from beyond it can mean retention deleted it (kafkajs resets an out-of-range position forward,
    // to the log start); such a fetch may also have skipped an aborted transaction (nothing lost).
    const wanted = misaligned ?? pipeline.nextOffsetToTake?.toString();
    const retained =
      wanted !== undefined && fetchedOffset !== undefined && BigInt(fetchedOffset) > BigInt(wanted)
        ? await this.retained(batch.partition, wanted)
        : undefined;
    if (misaligned !== undefined) {
      // Fetched before our seek took effect, or after kafkajs reset a deleted position: refuse the batch
      // and seek again, to the log start if retention deleted the position (else the two loop forever).
      const offset = retained && retained.lost > 0n ? retained.offset : misaligned;
      if (offset !== misaligned) pipeline.startAt(offset);
      this.consumer.seek({ topic: this.topology.source.topic, partition: batch.partition, offset });
      return;
    }
    recordsIn.inc(
      { topology: this.topology.name, partition: String(batch.partition) },
      batch.messages.length,
    );
    // A transactional input ends in a commit marker, one offset past the last record.
    const caughtUp = Number(batch.offsetLag()) <= 1;
    pipeline.enqueue(batch.messages, caughtUp);
    resolveOffset(batch.lastOffset());
    if (pipeline.saturated && !this.paused.has(batch.partition)) {
      this.paused.add(batch.partition);
      this.consumer.pause([{ topic: this.topology.source.topic, partitions: [batch.partition] }]);
      pausedPartitions.set({ topology: this.topology.name }, this.paused.size);
    }
    await heartbeat();
  }

  /** Where `partition` can go on from if retention may have deleted `wanted`; reports what was lost. */
  private async retained(partition: number, wanted: string): Promise<Resumable> {
    const resumable = await resumableOffset(this.admin, this.topology.source.topic, partition, wanted);
    if (resumable.lost > 0n) {
      reportRetentionLoss(this.logger, this.topology.name, partition, wanted, resumable);
    }
    return resumable;
  }

  private async writeSide(
    kind: 'dead-letter' | 'late',
    raw: RawRecord,
    reason: DeadLetterReason,
  ): Promise<void> {
    const name = this.topology.name;
    const topic = kind === 'dead-letter' ? deadLetterTopic(name) : lateTopic(name);
    await this.writesInFlight.track(writeDeadLetter(this.producer, topic, name, raw, reason));
  }

  /** Ready checkpoints go out together: one transaction per partition, all in flight at once. */
  private requestCommit(checkpoint: CheckpointReady, pipeline: PartitionPipeline): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingCommits.push({
        checkpoint,
        pipeline,
        done: (e) => (e ? reject(e) : resolve()),
      });
      this.flushCommits();
    });
  }

  /**
   * Kafka's fencing of offset commits by group generation (KIP-447) is not available in kafkajs, so the
   * worker fences itself: no commit while membership is in doubt, nor when the last heartbeat is older
   * than half the session timeout (a stalled process may already have been replaced).
   */
  private mayCommit(): boolean {
    const sessionMs = this.options.sessionTimeoutMs ?? 10_000;
    return this.member && !this.assigning && Date.now() - this.lastHeartbeatAt < sessionMs / 2;
  }

  private suspendMembership(reason: string): void {
    if (this.member) this.logger.info({ reason }, 'commits held until the group assigns partitions again');
    this.member = false;
  }

  private dropAllPipelines(): void {
    for (const [p, pipeline] of this.pipelines) this.forgetPartition(p, pipeline);
    this.ready.clear();
    this.assignment = new Set();
  }

  /**
   * Drops a partition's pipeline. kafkajs keeps a partition's paused flag across rebalances, so a partition
   * paused by backpressure is resumed here: were it assigned to us again later, nothing would resume it.
   */
  private forgetPartition(partition: number, pipeline: PartitionPipeline): void {
    pipeline.dispose();
    this.pipelines.delete(partition);
    this.ready.delete(partition);
    this.closeCommitter(partition);
    if (this.paused.delete(partition)) {
      this.consumer.resume([{ topic: this.topology.source.topic, partitions: [partition] }]);
      pausedPartitions.set({ topology: this.topology.name }, this.paused.size);
    }
  }

  /**
   * Opens the partition's transactional producer. Its id names the consumer group and the partition, not
   * this worker: whichever worker owns the partition next fences every earlier owner, including one that
   * is still alive but was replaced (a long GC pause, a network partition) and would otherwise commit
   * state and offsets for a partition it no longer owns. kafkajs lacks the group-generation fencing of
   * KIP-447, so this is Kafka Streams' original exactly-once design (a producer per task).
   */
  private async openCommitter(partition: number): Promise<void> {
    this.closeCommitter(partition);
    const t = this.topology;
    const committer = new TransactionalCommitter(this.options.kafka, {
      transactionalId: partitionTransactionalId(this.groupId, partition),
      groupId: this.groupId,
      sourceTopic: t.source.topic,
      changelogTopic: this.changelogTopic,
      transactionTimeoutMs: this.options.transactionTimeoutMs,
    });
    this.committers.set(partition, committer);
    await committer.connect();
  }

  private closeCommitter(partition: number): void {
    const committer = this.committers.get(partition);
    if (!committer) return;
    this.committers.delete(partition);
    committer.close().catch((err: unknown) => this.logger.warn({ partition, err }, 'committer close failed'));
  }

  /**
   * Sends every pending checkpoint to its partition's producer at once: partitions commit independently,
   * so a slow transaction on one never holds back the others.
   */
  private flushCommits(): void {
    if (this.pendingCommits.length === 0) return;
    if (!this.mayCommit()) {
      this.retryCommitsSoon();
      return;
    }
    const batch = this.pendingCommits.splice(0);
    for (const request of batch) {
      // Never commit for a partition we no longer own: the new owner's progress would be overwritten.
      // A pipeline replaced since (revoked, or rebuilt as stale) must not commit either: compare identity.
      if (this.pipelines.get(request.checkpoint.partition) !== request.pipeline) {
        request.done();
        continue;
      }
      const run = this.commitPartition(request.checkpoint).then(request.done);
      this.commitsInFlight.add(run);
      void run.finally(() => this.commitsInFlight.delete(run));
    }
  }

  /** Resolves with the commit's error, if any (the pipeline that asked for it decides what it means). */
  private async commitPartition(checkpoint: CheckpointReady): Promise<Error | undefined> {
    const { partition } = checkpoint;
    const committer = this.committers.get(partition);
    const end = commitSeconds.startTimer({ topology: this.topology.name });
    try {
      if (!committer) throw new Error(`no transactional producer for partition ${partition}`);
      await committer.commit([checkpoint]);
      this.reportCommitted({ partition, nextOffset: checkpoint.nextOffset });
      return undefined;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (committer && isFenced(error)) this.onFenced(partition, committer, error);
      return error;
    } finally {
      end();
    }
  }

  /** A listener's failure is its own: the commit it hears about has succeeded either way. */
  private reportCommitted(committed: CommittedCheckpoint): void {
    for (const listener of this.committedListeners) {
      try {
        listener(committed);
      } catch (err) {
        this.logger.warn({ err, partition: committed.partition }, 'a commit listener failed');
      }
    }
  }

  /** Resolves once no commit is in flight (none starts while an assignment is applied: see mayCommit). */
  private commitsIdle(): Promise<void> {
    return Promise.all([...this.commitsInFlight]).then(() => undefined);
  }

  /**
   * Another worker initialized this partition's transactional id: the partition is theirs now. Expected
   * around a rebalance (our last commit raced the new owner's start), so the partition is dropped quietly;
   * while we still believe we own it, we are the stale one (e.g. we stalled past the session timeout),
   * so the worker stops and its restart rejoins the group.
   */
  private onFenced(partition: number, committer: TransactionalCommitter, error: Error): void {
    // A committer replaced since (the partition was reopened) failing late says nothing about the new one.
    if (this.committers.get(partition) !== committer) return;
    const pipeline = this.pipelines.get(partition);
    // Dropped before its commit promise rejects, so the pipeline does not report the failure as fatal.
    if (pipeline) this.forgetPartition(partition, pipeline);
    else this.closeCommitter(partition);
    if (!this.member || this.assigning || !this.assignment.has(partition)) {
      this.logger.info({ partition }, 'partition taken over by its next owner (our producer was fenced)');
      return;
    }
    this.fatal(
      new Error(
        `partition ${partition} was fenced by another worker while this one still held it (${error.message}); ` +
          'stopping so that a restart rejoins the consumer group',
      ),
    );
  }

  private retryTimer: NodeJS.Timeout | undefined;

  /** Held commits are retried once membership is confirmed (heartbeat or assignment). */
  private retryCommitsSoon(): void {
    if (this.retryTimer || this.stopping) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.flushCommits();
    }, 100);
    this.retryTimer.unref();
  }

  private failed = false;

  private fatal(err: Error): void {
    this.failed = true;
    this.logger.error({ err }, 'topology worker failed');
    for (const handler of this.fatalHandlers) handler(err);
  }
}

/** The transactional id of a consumer group's source partition: the same whichever worker owns it. */
export function partitionTransactionalId(groupId: string, partition: number): string {
  return `sluice-${groupId}-${partition}`;
}

/** The broker refused a transactional producer because a newer one initialized the same id. */
function isFenced(error: Error): boolean {
  const type = (error as { type?: string }).type;
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED';
}
