/**
 * The throughput benchmark's topology: decode -> keyBy -> 1 min tumbling window (count, sum) -> Kafka sink, Avro in and out.
 * A module of its own so that stream threads can build it (benchTopologyRef) without the bench around it.
 */
import type { Kafka } from 'kafkajs';
import { kafkaSink } from '../../connectors/kafka/kafka-sink.js';
import { aggregate, count, sum } from '../../operators/aggregate/index.js';
import { decode, type RecordDecoder } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { tumbling, window, type WindowResult } from '../../operators/windows/index.js';
import { kafkaSource, topology, type Topology } from '../../topologies/builder.js';
import type { TopologyRef } from '../../topologies/runtime/topology-ref.js';
import { deleteTopics, endpoints, topologyTopics } from '../support/kafka.js';
import { avroCodec } from './avro-codec.js';

export interface BenchEvent {
  id: number;
  cardId: string;
  amount: number;
  ts: number;
}

/** What the topology's window stage emits per card and minute. */
export type BenchWindow = WindowResult<{ n: number; amount: number }>;

export interface Codec {
  readonly name: string;
  encode(e: BenchEvent): Buffer | Promise<Buffer>;
  decoder: RecordDecoder<BenchEvent>;
  serializeWindow(w: BenchWindow): Buffer | Promise<Buffer>;
}

export function benchTopology(name: string, topic: string, codec: Codec): Topology {
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
    .to(kafkaSink<BenchWindow>({ topic: `${name}.out`, serialize: (r) => codec.serializeWindow(r.value) }));
}

/** The bench topology with Avro through the stack's registry: what a stream thread builds. */
export function benchTopologyOnRegistry(name: string, topic: string): Topology {
  return benchTopology(name, topic, avroCodec(endpoints.schemaRegistryUrl, topic));
}

export const benchTopologyRef = (name: string, topic: string): TopologyRef => ({
  module: import.meta.url,
  export: 'benchTopologyOnRegistry',
  args: [name, topic],
});

/** Deletes what a bench topology wrote: its output and its own topics (changelog, dead letters). */
export async function deleteTopologyTopics(kafka: Kafka, name: string): Promise<void> {
  await deleteTopics(kafka, [`${name}.out`, ...topologyTopics(name)]);
}
