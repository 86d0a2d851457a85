/**
 * Topology throughput against its ceiling: the same topic consumed raw by kafkajs (counting only) and by
 * a decode -> key -> tumbling window -> Kafka sink topology with checkpointed state, in the same run.
 */
import { spawn } from 'node:child_process';
import type { Kafka, Message } from 'kafkajs';
import { register } from 'prom-client';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { aggregate, count, sum } from '../../operators/aggregate/index.js';
import { decode, type RecordDecoder } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { tumbling, window } from '../../operators/windows/index.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { freePort } from '../support/free-port.js';
import { createTopic, endpoints, produce, topologyTopics, uniqueName } from '../support/kafka.js';
import { median } from './latency-stats.js';
import { inMemoryPipelineRate } from './pipeline-in-memory.js';
import type { Figure, Section } from './report.js';

export interface BenchEvent {
  id: number;
  cardId: string;
  amount: number;
  ts: number;
}

export interface Codec {
  readonly name: string;
  encode(e: BenchEvent): Promise<Buffer>;
  decoder: RecordDecoder<BenchEvent>;
}

async function rawConsumeSeconds(kafka: Kafka, topic: string, total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: uniqueName('bench-raw'), maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // Timed from the moment the group has assigned the partitions: the first fetch is part of the work.
  let started: bigint | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => (started ??= process.hrtime.bigint()));
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
  const seconds = Number(process.hrtime.bigint() - (started ?? 0n)) / 1e9;
  await consumer.disconnect();
  return seconds;
}

export function benchTopology(name: string, topic: string, codec: Codec) {
  return topology(name)
    .from(kafkaSource(topic))
    .pipe(
      decode(codec.decoder, { eventTime: (e) => e.ts, maxAgeMs: 10 * 365 * 86_400_000 }),
      keyBy((e) => e.cardId),
      window(tumbling('1m'), {
        grace: '5s',
        outOfOrderness: '5s',
        aggregate: aggregate({ n: count(), amount: sum((e: BenchEvent) => e.amount) }),
      }),
    )
    .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue }));
}

/** When the first source record entered a worker: read from its records-in counter. */
type FirstRecordProbe = () => Promise<boolean>;

/** The in-process worker's counter, in this process's registry. */
const inProcessProbe =
  (name: string): FirstRecordProbe =>
  async () => {
    const metric = register.getSingleMetric('sluice_records_in_total');
    const { values } = (await metric?.get()) ?? { values: [] };
    return values.some((v) => v.labels.topology === name && v.value > 0);
  };

/** Worker processes' counters, scraped from their /metrics endpoints. */
const scrapedProbe =
  (name: string, ports: readonly number[]): FirstRecordProbe =>
  async () => {
    const pattern = new RegExp(
      `^sluice_records_in_total\\{[^}]*topology="${name}"[^}]*\\} ([0-9.e+]+)$`,
      'm',
    );
    for (const port of ports) {
      const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      const match = pattern.exec(text);
      if (match && Number(match[1]) > 0) return true;
    }
    return false;
  };

/**
 * Events per second from the first record a worker fetched to the checkpoint commit that covers the last
 * record (state and offsets in one transaction: only then is an event done). Group join and state restore
 * before the first fetch are left out, as they are for the raw consumer (timed from its assignment).
 */
async function committedRate(
  kafka: Kafka,
  groupId: string,
  topic: string,
  name: string,
  firstRecord: FirstRecordProbe,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  const total = ends.reduce((a, e) => a + Number(e.high), 0);
  let started: bigint | undefined;
  const probe = setInterval(() => {
    if (started !== undefined) return;
    void firstRecord().then((seen) => {
      if (seen) started ??= process.hrtime.bigint();
    });
  }, 2);
  try {
    for (;;) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const parts = offsets?.partitions ?? [];
      const committed = parts.reduce((a, p) => a + (p.offset === '-1' ? 0 : Number(p.offset)), 0);
      if (committed >= total) break;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    clearInterval(probe);
  }
  if (started === undefined)
    throw new Error(`${name}: every offset was committed but no first record was seen`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await admin.deleteTopics({ topics: [`${name}.out`, ...topologyTopics(name)] }).catch(() => {});
  await admin.disconnect();
  return total / seconds;
}

export async function topologyRate(kafka: Kafka, topic: string, codec: Codec): Promise<number> {
  const name = uniqueName('bench-topo');
  const worker = new TopologyWorker(benchTopology(name, topic, codec), {
    instanceId: 'bench',
    kafka,
    endpoints,
  });
  await worker.start();
  const rate = await committedRate(kafka, name, topic, name, inProcessProbe(name));
  await worker.stop();
  return rate;
}

/** The same topology in two worker processes: Kafka's group protocol splits the partitions (scale-out). */
export async function twoProcessRate(kafka: Kafka, topic: string): Promise<number> {
  const name = uniqueName('bench-topo2');
  const ports = [await freePort(), await freePort()];
  const children = ['a', 'b'].map((instance, i) =>
    spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-worker.ts', name, topic, instance], {
      env: { ...process.env, LOG_LEVEL: 'warn', SLUICE_METRICS_PORT: String(ports[i]) },
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  );
  try {
    return await committedRate(kafka, name, topic, name, scrapedProbe(name, ports));
  } finally {
    await Promise.all(
      children.map(
        (c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM')))),
      ),
    );
  }
}

/** A peer for the same work minus the topology: consume, forward every record to a topic, commit per batch. */
async function passThroughSeconds(kafka: Kafka, topic: string, total: number): Promise<number> {
  const out = uniqueName('bench-pass');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: out, numPartitions: 6 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: out, maxBytesPerPartition: 256 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let started: bigint | undefined;
  consumer.on(consumer.events.GROUP_JOIN, () => (started ??= process.hrtime.bigint()));
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
  const seconds = Number(process.hrtime.bigint() - (started ?? 0n)) / 1e9;
  await consumer.disconnect();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [out] }).catch(() => {});
  await admin.disconnect();
  return seconds;
}

/**
 * Key cardinality decides how much a window topology writes back: with ~1 event per key and window every
 * event ends up in its own window result (and changelog record); with many it is folded into a few.
 */
interface Workload {
  readonly name: string;
  readonly keys: number;
  /** Event-time distance between consecutive events, ms. */
  readonly spacingMs: number;
}

const WORKLOADS: readonly Workload[] = [
  { name: 'per card (5,000 keys, ~1.2 events per key and window)', keys: 5000, spacingMs: 10 },
  { name: 'per merchant (200 keys, ~30 events per key and window)', keys: 200, spacingMs: 10 },
];

/** Each measurement's runs, one per round. */
interface WorkloadRates {
  readonly raw: number[];
  readonly passThrough: number[];
  readonly oneProcess: number[];
  readonly twoProcesses: number[];
  readonly inMemory: number[];
}

/** Rounds per workload: runs of a second or two are noisy on a shared 2-core machine, so medians are reported. */
const ROUNDS = 3;

async function measureWorkload(
  kafka: Kafka,
  makeCodec: (topic: string) => Codec,
  workload: Workload,
  events: number,
): Promise<WorkloadRates> {
  const topic = uniqueName('bench-events');
  const codec = makeCodec(topic);
  await createTopic(kafka, topic, 6);
  // Event times end a minute before now, so none is rejected as being in the future.
  const t0 = Date.now() - events * workload.spacingMs - 60_000;
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
  await produce(kafka, topic, messages, 5000);
  const rates: WorkloadRates = { raw: [], passThrough: [], oneProcess: [], twoProcesses: [], inMemory: [] };
  // Interleaved rounds, so a slow spell of the machine touches every measurement alike.
  for (let round = 0; round < ROUNDS; round += 1) {
    rates.raw.push(events / (await rawConsumeSeconds(kafka, topic, events)));
    rates.passThrough.push(events / (await passThroughSeconds(kafka, topic, events)));
    rates.oneProcess.push(await topologyRate(kafka, topic, codec));
    rates.twoProcesses.push(await twoProcessRate(kafka, topic));
    rates.inMemory.push(await inMemoryPipelineRate(benchTopology('bench-memory', topic, codec), messages));
  }
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  return rates;
}

const runsNote = (runs: readonly number[]) =>
  `median of ${runs.length} runs: ${runs.map((r) => Math.round(r).toLocaleString('en-US')).join(', ')} ev/s`;

export async function benchTopologyThroughput(
  kafka: Kafka,
  makeCodec: (topic: string) => Codec,
  events = 200_000,
): Promise<Section> {
  const figures: Figure[] = [];
  const missed: string[] = [];
  const rawMicros: number[] = [];
  const inMemoryRatios: number[] = [];
  for (const workload of WORKLOADS) {
    const runs = await measureWorkload(kafka, makeCodec, workload, events);
    const raw = median(runs.raw);
    const oneProcess = median(runs.oneProcess);
    const twoProcesses = median(runs.twoProcesses);
    rawMicros.push(1e6 / raw);
    inMemoryRatios.push(median(runs.inMemory) / raw);
    if (Math.max(oneProcess, twoProcesses) / raw < 0.7) missed.push(workload.name);
    const rawBaseline = { name: `raw kafkajs consume, ${runsNote(runs.raw)}`, value: raw };
    figures.push(
      {
        metric: `${workload.name}: topology events/s, 1 worker process`,
        value: oneProcess,
        unit: 'ev/s',
        baseline: rawBaseline,
        target: 'ratio >= 0.7',
        note: `${oneProcess / raw >= 0.7 ? 'met' : 'not met: see the analysis below'}; ${runsNote(runs.oneProcess)}`,
      },
      {
        metric: `${workload.name}: topology events/s, 1 worker process`,
        value: oneProcess,
        unit: 'ev/s',
        baseline: {
          name: `kafkajs consume -> produce pass-through, ${runsNote(runs.passThrough)}`,
          value: median(runs.passThrough),
        },
      },
      {
        metric: `${workload.name}: topology events/s, 2 worker processes`,
        value: twoProcesses,
        unit: 'ev/s',
        baseline: rawBaseline,
        target: 'ratio >= 0.7',
        note:
          `${runsNote(runs.twoProcesses)}; both start together, so this includes the rebalance when the ` +
          'second joins, and both share the 2 cores with the broker',
      },
      {
        metric: `${workload.name}: the same pipeline without Kafka (in memory, 1 partition)`,
        value: median(runs.inMemory),
        unit: 'ev/s',
        baseline: rawBaseline,
        note:
          `${runsNote(runs.inMemory)}; decode, key, window, checkpoint capture and result serialization: ` +
          "Sluice's own cost, with no fetch, produce or commit",
      },
    );
  }
  return {
    title: 'Topology throughput (issue 3)',
    setup:
      `${events.toLocaleString('en-US')} Avro (Confluent wire format) events per workload, 6 partitions, ` +
      `${ROUNDS} interleaved rounds of every measurement, medians reported, ` +
      'event times 10 ms apart. Topology: decode -> keyBy -> 1 min tumbling window (count, sum) with ' +
      'changelog state -> Kafka sink, worker defaults (checkpoint every 500 ms or 10,000 records per ' +
      'partition, 1 MiB fetches). Rate = events / time from the first record a worker fetched to the ' +
      'checkpoint commit (state and offsets in one transaction per partition) that covers the last event. ' +
      'Baselines, ' +
      'timed from the group assignment: a bare kafkajs consumer group that only counts the same messages ' +
      '(the ceiling), and a kafkajs consume -> produce pass-through of every record (a peer).',
    analysis:
      'Analysis: the raw baseline only lets kafkajs decode record batches ' +
      `(${rawMicros.map((us) => us.toFixed(1)).join(' and ')} µs per event in this run). ` +
      'The topology also decodes Avro, updates window state, and writes window results and changelog ' +
      'records back through kafkajs, whose produce path (record encoding with Long.js varints) is the ' +
      'largest single cost once every event makes its own window result (per card). With many events per ' +
      'key and window (per merchant) the writes shrink and the per-record JavaScript work (decode, window ' +
      'update, garbage collection) dominates. The in-memory figures are that share alone' +
      (inMemoryRatios.every((r) => r < 0.7)
        ? ': without any fetch, produce or commit the same pipeline is already below 0.7 of the raw consume ' +
          'rate, so no Kafka-side tuning can reach the target on one core. '
        : '. ') +
      'One worker process already keeps more than one core busy ' +
      '(its garbage collector and I/O run on helper threads) and the broker takes a share of the same 2 ' +
      'cores, so a second worker process competes for them instead of adding one; on a machine with spare ' +
      'cores the consumer group spreads the partitions the same way. ' +
      (missed.length === 0
        ? "The issue's 0.7-of-raw-consume target is met."
        : `The issue's 0.7-of-raw-consume target is not met: ${missed.join('; ')}.`),
    figures,
  };
}
