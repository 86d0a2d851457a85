/**
 * The throughput benchmark's topology with Kafka taken away: the same encoded events fed straight into one
 * partition pipeline, results written by the topology's own sink (serialized, framed into messages) to a
 * producer that only counts their bytes, checkpoints captured (state serialized) but committed nowhere.
 * It splits the topology's cost into what Sluice's own code takes and what the Kafka client takes.
 */
import type { KafkaMessage, Message, Producer, ProducerRecord } from 'kafkajs';
import pino from 'pino';
import type { SinkEnvironment } from '../../connectors/sink.js';
import type { Topology } from '../../topologies/builder.js';
import { endpoints } from '../support/kafka.js';
import { PartitionPipeline } from '../../topologies/runtime/partition-pipeline.js';

/** About what one 1 MiB fetch of these events brings. */
const FETCH_RECORDS = 15_000;

export async function inMemoryPipelineRate(
  topology: Topology,
  messages: readonly Message[],
): Promise<number> {
  const timestamp = String(Date.now());
  const fetched: KafkaMessage[] = messages.map((m, i) => ({
    offset: String(i),
    key: m.key === null || m.key === undefined ? null : Buffer.from(m.key),
    value: m.value as Buffer,
    timestamp,
    headers: {},
    attributes: 0,
  }));
  let written = 0;
  const countingProducer = {
    async send(record: ProducerRecord) {
      for (const m of record.messages) written += (m.value as Buffer).length;
      return [];
    },
  } as unknown as Producer;
  const logger = pino({ level: 'silent' });
  const [sink] = topology.sinks;
  if (!sink || topology.sinks.length !== 1)
    throw new Error('the in-memory bench runs topologies with one sink');
  const env = { topology: topology.name, producer: countingProducer, endpoints, logger } as SinkEnvironment;
  const writer = await sink.open(env);
  const pipeline = new PartitionPipeline({
    topology,
    partition: 0,
    restored: new Map(),
    sinkWriters: [writer],
    logger,
    barrierEveryRecords: 10_000,
    barrierIntervalMs: 500,
    maxOutstandingBarriers: 4,
    sinkMaxBatch: 500,
    writeSide: async () => undefined,
    commit: async () => undefined,
    onCredit: () => undefined,
    onFatal: (err) => {
      throw err;
    },
  });
  pipeline.start();
  const started = process.hrtime.bigint();
  for (let i = 0; i < fetched.length; i += FETCH_RECORDS) {
    pipeline.enqueue(fetched.slice(i, i + FETCH_RECORDS));
    while (pipeline.saturated) await new Promise((r) => setImmediate(r));
  }
  await pipeline.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (written === 0) throw new Error('the in-memory pipeline wrote nothing');
  return messages.length / seconds;
}
