/**
 * Topology throughput against its ceiling: the same topic consumed raw by kafkajs (counting only) and by
 * a decode -> key -> tumbling window -> Kafka sink topology with checkpointed state, in the same run.
 */
import type { Kafka, Message } from 'kafkajs';
import { register } from 'prom-client';
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
  let started: bigint | undefined;
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        started ??= process.hrtime.bigint();
        seen += batch.messages.length;
        if (seen >= total) resolve();
      },
    });
  });
  const seconds = Number(process.hrtime.bigint() - (started ?? 0n)) / 1e9;
  await consumer.disconnect();
  return seconds;
}

async function fetchedRecords(topologyName: string): Promise<number> {
  const metric = register.getSingleMetric('sluice_records_in_total');
  const values = metric ? (await metric.get()).values : [];
  return values.filter((v) => v.labels.topology === topologyName).reduce((a, v) => a + v.value, 0);
}

export async function topologySeconds(kafka: Kafka, topic: string, codec: Codec): Promise<number> {
  const name = uniqueName('bench-topo');
  const t = topology(name)
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
  const worker = new TopologyWorker(t, { instanceId: 'bench', kafka, endpoints });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await worker.start();
  // Both sides are timed from their first fetched batch: group join, topic creation and state restore
  // are start-up costs, not throughput.
  while ((await fetchedRecords(name)) === 0) await new Promise((r) => setTimeout(r, 5));
  const started = process.hrtime.bigint();
  for (;;) {
    const [offsets] = await admin.fetchOffsets({ groupId: name, topics: [topic] });
    const done = ends.every((e) => offsets?.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
    if (done) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await worker.stop();
  await admin.deleteTopics({ topics: [`${name}.out`, `${name}-changelog`, `${name}.dlq`, `${name}.late`] }).catch(() => {});
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
  const topoSeconds = await topologySeconds(kafka, topic, codec);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  return {
    title: 'Topology throughput (issue 3)',
    setup:
      `${events.toLocaleString('en-US')} ${codec.name} events, 6 partitions, 5,000 keys, one worker process. ` +
      'Topology: decode -> keyBy -> 1 min tumbling window (count, sum) with changelog state -> Kafka sink, ' +
      'timed from the first fetched batch until every offset is committed (state and offsets in one transaction). Baseline: a bare ' +
      'kafkajs consumer group that only counts the same messages, timed from its first batch.',
    figures: [
      {
        metric: 'topology events/s',
        value: events / topoSeconds,
        unit: 'ev/s',
        baseline: { name: 'raw kafkajs consume', value: events / rawSeconds },
        target: 'ratio >= 0.7',
      },
    ],
  };
}
