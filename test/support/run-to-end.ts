/** Runs a topology in one worker over what its source topic holds, as the poison tests need it. */
import type { Kafka } from 'kafkajs';
import type { Topology } from '../../topologies/builder.js';
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
