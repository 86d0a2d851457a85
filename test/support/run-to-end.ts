/** Runs a topology in one worker over what its source topic holds, as the poison tests need it. */
import type { Kafka } from 'kafkajs';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { decode, type RecordDecoder } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { kafkaSource, topology, type Topology } from '../../topologies/builder.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { endpoints, waitForCommittedEnd } from './kafka.js';

/**
 * Starts a worker for `topology`, waits until its group has committed the end of the source topic (so
 * the partitions kept flowing past whatever they held), stops it, and returns the fatal error the worker
 * reported, if any.
 */
export async function runToCommittedEnd(
  kafka: Kafka,
  topology: Topology,
  instanceId: string,
): Promise<Error | undefined> {
  const worker = new TopologyWorker(topology, { instanceId, kafka, endpoints, barrierIntervalMs: 100 });
  let fatal: Error | undefined;
  worker.onFatal((e) => (fatal = e));
  await worker.start();
  try {
    await waitForCommittedEnd(
      kafka,
      topology.options.groupId ?? topology.name,
      topology.source.topic,
      60_000,
    );
  } finally {
    await worker.stop();
  }
  return fatal;
}

/** `<name>.in` decoded, keyed and written to `<name>.out` as JSON: the topology poison is pushed through. */
export function decodeKeyedTopology<T>(
  name: string,
  decoder: RecordDecoder<T>,
  eventTime: (value: T) => number,
  key: (value: T) => string,
): Topology {
  return topology(name)
    .from(kafkaSource(`${name}.in`))
    .pipe(decode(decoder, { eventTime }), keyBy(key))
    .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue }));
}
