/**
 * Topology throughput against its ceiling: the same topic consumed raw by kafkajs (counting only) and by
 * a decode -> key -> tumbling window -> Kafka sink topology with checkpointed state, in the same run.
 */
import { spawn } from 'node:child_process';
import type { Kafka, Message } from 'kafkajs';
import {
  DEFAULT_SINK_MAX_BATCH,
  TopologyWorker,
  type CommittedCheckpoint,
} from '../../topologies/runtime/worker.js';
import { freePort } from '../support/free-port.js';
import { createTopic, deleteTopics, endpoints, produce, uniqueName, watchedKafka } from '../support/kafka.js';
import { benchTopology, deleteTopologyTopics, type BenchEvent, type Codec } from './bench-topology.js';
import { CommitTracker } from './commit-watch.js';
import { COMMITTED_WITHIN_MS, endOffsets, eventsIn, groupSettled, heldInTransaction } from './held-events.js';
import { cpuMark, measuredSince, type CpuMark, type Measured } from './machine-cpu.js';
import { inMemoryPipelineRate } from './pipeline-in-memory.js';
import { threadedRate } from './threaded-rate.js';
import type { Section } from './report.js';
import { throughputReport, type Workload, type WorkloadRates } from './throughput-report.js';

async function rawConsume(kafka: Kafka, topic: string, total: number): Promise<Measured> {
  const consumer = kafka.consumer({ groupId: uniqueName('bench-raw'), maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // Timed from the moment the group has assigned the partitions: the first fetch is part of the work.
  let started: CpuMark | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => (started ??= cpuMark()));
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= total) resolve();
      },
    });
  });
  const measured = measuredSince(started as CpuMark, total);
  await consumer.disconnect();
  return measured;
}

/**
 * `kafka` with a clock on `groupId`'s consumer: the moment it joins its group, which is where the raw
 * consumer is timed from too. Timing from the first record a worker handles would leave out kafkajs'
 * decoding of the first fetch (a third of a short run's events), which the raw consumer pays.
 */
function withJoinClock(kafka: Kafka, groupId: string): { kafka: Kafka; joined: Promise<CpuMark> } {
  let resolve: (at: CpuMark) => void = () => undefined;
  const joined = new Promise<CpuMark>((r) => (resolve = r));
  const clocked = watchedKafka(kafka, {
    consumer: (consumer, config) => {
      if (config.groupId === groupId) {
        consumer.on(consumer.events.GROUP_JOIN, () => resolve(cpuMark()));
      }
    },
  });
  return { kafka: clocked, joined };
}

/**
 * Events per second from the worker joining its group to the checkpoint commit (state and offsets in one
 * transaction: only then is an event done) that covers the last event, seen as it happens.
 */
export async function topologyRate(kafka: Kafka, topic: string, codec: Codec): Promise<Measured> {
  const name = uniqueName('bench-topo');
  const ends = await endOffsets(kafka, topic);
  const tracker = new CommitTracker();
  tracker.expect(ends);
  const clock = withJoinClock(kafka, name);
  const worker = new TopologyWorker(benchTopology(name, topic, codec), {
    instanceId: 'bench',
    kafka: clock.kafka,
    endpoints,
  });
  worker.onCommitted((committed) => tracker.add(committed));
  await worker.start();
  const measured = measuredSince(
    await clock.joined,
    eventsIn(ends),
    await tracker.doneWithin(COMMITTED_WITHIN_MS),
  );
  await worker.stop();
  await deleteTopologyTopics(kafka, name);
  return measured;
}

/**
 * The same topology in two worker processes: Kafka's group protocol splits the partitions (scale-out).
 * The events are held in an open transaction until both workers share one stable group, so the figure is
 * the pair's steady rate, not the rebalance when the second joins (which a 200,000-event run would be
 * mostly made of).
 */
export async function twoProcessRate(
  kafka: Kafka,
  messages: readonly Message[],
  /** A filled topic the workers first run the topology over, to be measured warm. */
  warmUpTopic: string,
): Promise<Measured> {
  const topic = uniqueName('bench-events2');
  await createTopic(kafka, topic, 6);
  const held = await heldInTransaction(kafka, topic, messages);
  const name = uniqueName('bench-topo2');
  const ports = [await freePort(), await freePort()];
  const tracker = new CommitTracker();
  const children = ['a', 'b'].map((instance, i) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/bench/bench-worker.ts', name, topic, instance, warmUpTopic],
      {
        env: { ...process.env, LOG_LEVEL: 'warn', SLUICE_METRICS_PORT: String(ports[i]) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    // Each worker reports its checkpoint commits (bench-worker.ts): no poll of the group competes with the
    // pair for the 2 cores.
    child.on('message', (committed: CommittedCheckpoint) => tracker.add(committed));
    return child;
  });
  try {
    const readyz = (port: number) =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
    await groupSettled(kafka, name, ports.length, async () =>
      (await Promise.all(ports.map(readyz))).every(Boolean),
    );
    // Timed from the moment the events are released to the settled pair.
    return await held.release(tracker);
  } finally {
    await held.abort().catch(() => undefined);
    await Promise.all(
      children.map(
        (c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM')))),
      ),
    );
    await deleteTopics(kafka, [topic]);
    await deleteTopologyTopics(kafka, name);
  }
}

/** A peer for the same work minus the topology: consume, forward every record to a topic, commit per batch. */
async function passThrough(kafka: Kafka, topic: string, total: number): Promise<Measured> {
  const out = uniqueName('bench-pass');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: out, numPartitions: 6 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: out, maxBytesPerPartition: 256 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let started: CpuMark | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => (started ??= cpuMark()));
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: true,
      eachBatch: async ({ batch }) => {
        await producer.send({
          topic: out,
          acks: -1,
          messages: batch.messages.map((m) => ({ key: m.key, value: m.value })),
        });
        seen += batch.messages.length;
        if (seen >= total) resolve();
      },
    });
  });
  const measured = measuredSince(started as CpuMark, total);
  await consumer.disconnect();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [out] }).catch(() => {});
  await admin.disconnect();
  return measured;
}

const WORKLOADS: readonly Workload[] = [
  { name: 'per card (5,000 keys, ~1.2 events per key and window)', keys: 5000, spacingMs: 10 },
  { name: 'per merchant (200 keys, ~30 events per key and window)', keys: 200, spacingMs: 10 },
];

/**
 * A workload's events, encoded; by default their event times end a minute before now, so none is in the
 * future. `endsAt`: the event time the last one comes before.
 */
export async function benchMessages(
  codec: Codec,
  events: number,
  workload: Workload,
  endsAt = Date.now() - 60_000,
): Promise<Message[]> {
  const t0 = endsAt - events * workload.spacingMs;
  const messages: Message[] = [];
  for (let id = 0; id < events; id += 1) {
    const e: BenchEvent = {
      id,
      cardId: `card-${id % workload.keys}`,
      amount: (id % 997) + 0.5,
      ts: t0 + id * workload.spacingMs,
    };
    messages.push({ key: e.cardId, value: await codec.encode(e) });
  }
  return messages;
}

/** The stream threads of the threaded figure: one per core of this machine. */
const STREAM_THREADS = 2;

/** Rounds per workload: runs of a second or two are noisy on a shared 2-core machine, so medians are reported. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** What the progress counts per workload: a warm-up, then the rounds. */
const STEPS_PER_WORKLOAD = ROUNDS + 1;

/** Reports which step is running and how many of this bench's steps are done (for a progress bar). */
export type BenchProgress = (done: number, running: string) => void;

/** Steps of benchTopologyThroughput, as its progress counts them: per workload, a warm-up and the rounds. */
export const topologyBenchSteps = (): number => WORKLOADS.length * STEPS_PER_WORKLOAD;

async function measureWorkload(
  kafka: Kafka,
  makeCodec: (topic: string) => Codec,
  workload: Workload,
  events: number,
  progress: BenchProgress,
): Promise<WorkloadRates> {
  const topic = uniqueName('bench-events');
  const codec = makeCodec(topic);
  await createTopic(kafka, topic, 6);
  const endsAt = Date.now() - 60_000;
  const messages = await benchMessages(codec, events, workload, endsAt);
  // The stream threads' warm-up (threaded-rate.ts): the same workload two minutes of event time earlier.
  const warmUp = await benchMessages(codec, events, workload, endsAt - events * workload.spacingMs - 120_000);
  await produce(kafka, topic, messages, 5000);
  const rates: WorkloadRates = {
    raw: [],
    passThrough: [],
    oneProcess: [],
    threads: [],
    twoProcesses: [],
    inMemory: [],
  };
  // A warm-up round first (not reported), so every in-process measurement runs compiled code, as the
  // worker processes do after their own warm-up (bench-worker.ts).
  progress(0, 'warm-up');
  await rawConsume(kafka, topic, events);
  await passThrough(kafka, topic, events);
  await topologyRate(kafka, topic, codec);
  await inMemoryPipelineRate(benchTopology('bench-memory', topic, codec), messages);
  // Interleaved rounds, so a slow spell of the machine touches every measurement alike.
  for (let round = 0; round < ROUNDS; round += 1) {
    progress(round + 1, `round ${round + 1} of ${ROUNDS}`);
    rates.raw.push(await rawConsume(kafka, topic, events));
    rates.passThrough.push(await passThrough(kafka, topic, events));
    rates.oneProcess.push(await topologyRate(kafka, topic, codec));
    rates.threads.push(await threadedRate(kafka, warmUp, messages, STREAM_THREADS));
    rates.twoProcesses.push(await twoProcessRate(kafka, messages, topic));
    rates.inMemory.push(await inMemoryPipelineRate(benchTopology('bench-memory', topic, codec), messages));
  }
  await deleteTopics(kafka, [topic]);
  return rates;
}

export async function benchTopologyThroughput(
  kafka: Kafka,
  makeCodec: (topic: string) => Codec,
  events = 200_000,
  progress: BenchProgress = () => undefined,
): Promise<Section> {
  const measured: { workload: Workload; rates: WorkloadRates }[] = [];
  for (const [i, workload] of WORKLOADS.entries()) {
    const rates = await measureWorkload(kafka, makeCodec, workload, events, (done, running) =>
      progress(i * STEPS_PER_WORKLOAD + done, `${workload.name.replace(/ \(.*/, '')}, ${running}`),
    );
    measured.push({ workload, rates });
  }
  const { figures, analysis } = throughputReport(measured, STREAM_THREADS);
  return {
    title: 'Topology throughput (issue 3)',
    setup:
      `${events.toLocaleString('en-US')} Avro (Confluent wire format) events per workload, 6 partitions, ` +
      `a warm-up round, then ${ROUNDS} interleaved rounds of every measurement, medians reported, ` +
      'event times 10 ms apart. Topology: decode -> keyBy -> 1 min tumbling window (count, sum) with ' +
      'changelog state -> Kafka sink (window results as Avro through the registry too), worker defaults (checkpoint every 500 ms or 10,000 records per ' +
      'partition, and 100 ms after the last one once a partition has caught up; sink writes of up to ' +
      `${DEFAULT_SINK_MAX_BATCH.toLocaleString('en-US')} records; 1 MiB fetches). ` +
      'Rate = events / time from the worker joining its consumer group to the checkpoint commit (state and ' +
      'offsets in one transaction per partition) that covers the last event, seen as the commit returns ' +
      '(each worker reports its commits to the bench; nothing polls the group during a run); for ' +
      `${STREAM_THREADS} stream threads and for two worker processes, from the release of the events to ` +
      'the settled group (see the analysis). Baselines, timed from the group assignment too: a bare ' +
      'kafkajs consumer group that only counts the same messages (the ceiling), and a kafkajs consume -> ' +
      'produce pass-through of every record (a peer). Machine CPU: the busy time of every core ' +
      '(os.cpus(), so every process, the broker included) over the same interval as the rate, per event.',
    analysis,
    figures,
  };
}
