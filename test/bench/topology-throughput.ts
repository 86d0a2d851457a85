/**
 * Topology throughput against its ceiling: the same topic consumed raw by kafkajs (counting only) and by
 * a decode -> key -> tumbling window -> Kafka sink topology with checkpointed state, in the same run.
 */
import { spawn } from 'node:child_process';
import type { Kafka, Message } from 'kafkajs';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { aggregate, count, sum } from '../../operators/aggregate/index.js';
import { decode, type RecordDecoder } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { tumbling, window } from '../../operators/windows/index.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { createTopic, endpoints, produce, uniqueName } from '../support/kafka.js';
import type { Section } from './report.js';

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

/**
 * Events per second between the first and the last checkpoint commit, counting only the events committed
 * in between. Start-up (group join, topic creation, state restore) is excluded the same way for one and
 * for several worker processes, which a first-fetch timer in another process could not do.
 */
async function committedRate(kafka: Kafka, groupId: string, topic: string, name: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  const total = ends.reduce((a, e) => a + Number(e.high), 0);
  let first: { at: bigint; committed: number } | undefined;
  for (;;) {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const parts = offsets?.partitions ?? [];
    const committed = parts.reduce((a, p) => a + (p.offset === '-1' ? 0 : Number(p.offset)), 0);
    if (first === undefined && committed > 0) first = { at: process.hrtime.bigint(), committed };
    if (committed >= total) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const seconds = Number(process.hrtime.bigint() - (first?.at ?? 0n)) / 1e9;
  await admin
    .deleteTopics({ topics: [`${name}.out`, `${name}-changelog`, `${name}.dlq`, `${name}.late`] })
    .catch(() => {});
  await admin.disconnect();
  return (total - (first?.committed ?? 0)) / seconds;
}

export async function topologyRate(kafka: Kafka, topic: string, codec: Codec): Promise<number> {
  const name = uniqueName('bench-topo');
  const worker = new TopologyWorker(benchTopology(name, topic, codec), {
    instanceId: 'bench',
    kafka,
    endpoints,
  });
  await worker.start();
  const rate = await committedRate(kafka, name, topic, name);
  await worker.stop();
  return rate;
}

/** The same topology in two worker processes: Kafka's group protocol splits the partitions (scale-out). */
export async function twoProcessRate(kafka: Kafka, topic: string): Promise<number> {
  const name = uniqueName('bench-topo2');
  const children = ['a', 'b'].map((instance) =>
    spawn(process.execPath, ['--import', 'tsx', 'test/bench/bench-worker.ts', name, topic, instance], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  );
  try {
    return await committedRate(kafka, name, topic, name);
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

export async function benchTopologyThroughput(
  kafka: Kafka,
  makeCodec: (topic: string) => Codec,
  events = 200_000,
): Promise<Section> {
  const topic = uniqueName('bench-events');
  const codec = makeCodec(topic);
  await createTopic(kafka, topic, 6);
  const t0 = Date.now() - 3_600_000;
  const messages: Message[] = [];
  for (let id = 0; id < events; id += 1) {
    const e: BenchEvent = { id, cardId: `card-${id % 5000}`, amount: (id % 997) + 0.5, ts: t0 + id * 10 };
    messages.push({ key: e.cardId, value: await codec.encode(e) });
  }
  await produce(kafka, topic, messages, 5000);
  const rawSeconds = await rawConsumeSeconds(kafka, topic, events);
  const passSeconds = await passThroughSeconds(kafka, topic, events);
  const topoRate = await topologyRate(kafka, topic, codec);
  const twoRate = await twoProcessRate(kafka, topic);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  return {
    title: 'Topology throughput (issue 3)',
    setup:
      `${events.toLocaleString('en-US')} ${codec.name} events, 6 partitions, 5,000 keys. ` +
      'Topology: decode -> keyBy -> 1 min tumbling window (count, sum) with changelog state -> Kafka sink, ' +
      'rate between the first and the last checkpoint commit (state and offsets in one transaction). Baselines: a bare ' +
      'kafkajs consumer group that only counts the same messages, and a kafkajs consume -> produce pass-through ' +
      '(both timed from the group assignment).',
    analysis:
      'Analysis: the raw baseline only counts records, while the topology decodes Avro, updates window state ' +
      'and writes about one window result plus one changelog record per event back to Kafka (5,000 cards with ' +
      '1 min windows see ~1 event per card-window, as real card traffic does). Writing to Kafka with kafkajs is ' +
      'the dominant cost, so the pass-through peer — consume and produce the same records, nothing else — is ' +
      'the honest ceiling for this workload. The broker shares the same 2 cores, so a second worker process ' +
      "competes with it instead of adding a core. The issue's 0.7-of-raw-consume target is not met.",
    figures: [
      {
        metric: 'topology events/s, 1 worker process',
        value: topoRate,
        unit: 'ev/s',
        baseline: { name: 'raw kafkajs consume', value: events / rawSeconds },
        target: 'ratio >= 0.7',
        note: 'not met: see the analysis below',
      },
      {
        metric: 'topology events/s, 1 worker process',
        value: topoRate,
        unit: 'ev/s',
        baseline: { name: 'kafkajs consume -> produce pass-through', value: events / passSeconds },
      },
      {
        metric: 'topology events/s, 2 worker processes',
        value: twoRate,
        unit: 'ev/s',
        baseline: { name: 'raw kafkajs consume', value: events / rawSeconds },
        target: 'ratio >= 0.7',
        note: 'scale-out over the 2 cores via the consumer group',
      },
    ],
  };
}
