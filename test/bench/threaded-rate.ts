/**
 * The bench topology on stream threads of one process (`sluice run --threads N`), in this process: each
 * thread is a group member with its own partitions. Threads are new V8 isolates, so they are warmed up on
 * the same topic first (the workload's events with earlier event times) and timed on what follows.
 */
import type { Kafka, Message } from 'kafkajs';
import { rootLogger } from '../../connectors/kafka/client.js';
import { StreamThreads } from '../../topologies/runtime/stream-threads.js';
import { createTopic, deleteTopics, produce, uniqueName, waitForCommittedEnd } from '../support/kafka.js';
import { CommitTracker } from './commit-watch.js';
import { groupSettled, heldInTransaction } from './held-events.js';
import type { Measured } from './machine-cpu.js';
import { benchTopologyRef, deleteTopologyTopics } from './bench-topology.js';

export async function threadedRate(
  kafka: Kafka,
  warmUp: readonly Message[],
  messages: readonly Message[],
  threads: number,
): Promise<Measured> {
  const topic = uniqueName('bench-events-threads');
  await createTopic(kafka, topic, 6);
  await produce(kafka, topic, [...warmUp], 5000);
  const held = await heldInTransaction(kafka, topic, messages, warmUp.length);
  const name = uniqueName('bench-topo-threads');
  const tracker = new CommitTracker();
  const streams = new StreamThreads(benchTopologyRef(name, topic), {
    threads,
    instanceId: 'bench',
    logger: rootLogger,
  });
  streams.onCommitted((committed) => tracker.add(committed));
  try {
    await streams.start();
    // The warm-up: the open transaction holds the rest back, so the group's end is the warm-up's end.
    await waitForCommittedEnd(kafka, name, topic, 180_000);
    await groupSettled(kafka, name, threads, () => streams.isMember);
    return await held.release(tracker);
  } finally {
    await held.abort().catch(() => undefined);
    await streams.stop();
    await deleteTopics(kafka, [topic]);
    await deleteTopologyTopics(kafka, name);
  }
}
