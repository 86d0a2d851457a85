/**
 * The throughput benchmark's topology with Kafka taken away: the same encoded events fed straight into one
 * partition pipeline, results serialized as the Kafka sink would but kept in memory, checkpoints captured
 * (state serialized) but committed nowhere. It splits the topology's cost into what Sluice's own code
 * takes and what the Kafka client takes.
 */
import type { KafkaMessage, Message } from 'kafkajs';
import pino from 'pino';
import { jsonValue } from '../../connectors/kafka/kafka-sink.js';
import type { SinkWriter } from '../../connectors/sink.js';
import type { Topology } from '../../topologies/builder.js';
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
  const writer: SinkWriter<unknown> = {
    async write(records) {
      for (const r of records) written += jsonValue(r).length;
    },
    async close() {},
  };
  const pipeline = new PartitionPipeline({
    topology,
    partition: 0,
    restored: new Map(),
    sinkWriters: [writer],
    logger: pino({ level: 'silent' }),
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
