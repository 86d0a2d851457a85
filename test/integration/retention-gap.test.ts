/**
 * Retention deleting records a topology has not processed yet: while it was down (it comes back to a
 * position the broker no longer holds), or while it ran too far behind. Either way it must go on from the
 * log start, count what was lost, and process everything still there. Before, a restarted worker's
 * alignment check and kafkajs' out-of-range reset sought back and forth for good, and a running one lost
 * the records without a word.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Consumer, Message } from 'kafkajs';
import { register } from 'prom-client';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  produce,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
  withAdmin,
} from '../support/kafka.js';
import {
  assertWindowsEqualReference,
  countSumTopology,
  WINDOW_MS,
  type KeyedEvent,
} from '../support/window-reference.js';

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

const DELETED = 300;

async function lostCount(topology: string, partition: number): Promise<number> {
  const metric = await register.getSingleMetric('sluice_source_records_lost_total')?.get();
  const sample = metric?.values.find(
    (v) => v.labels.topology === topology && v.labels.partition === String(partition),
  );
  return sample?.value ?? 0;
}

/**
 * A 2-partition topology that has processed 1,000 events; 2,000 more arrive, and retention deletes the
 * first 300 of them from partition 0 while the worker is down or lagging.
 * Then the rest must be processed, the 300 counted, and the windows equal the reference without them.
 */
async function retentionGap(
  prefix: string,
  /** Down: the worker is stopped meanwhile. Lagging: it runs, its fetching of partition 0 held back. */
  during: 'down' | 'lagging',
): Promise<void> {
  const name = uniqueName(prefix);
  const source = `${name}.in`;
  created.push(source, `${name}.out`, ...topologyTopics(name));
  await createTopic(kafka, source, 2);
  const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 3_600_000;
  // Each key lives on one partition, chosen here, so offsets (and what a deletion removes) are known.
  const event = (id: number): KeyedEvent => ({
    id,
    key: `card-${id % 20}`,
    ts: t0 + id * 20,
    amount: 1 + (id % 7),
  });
  const partitionOf = (e: KeyedEvent) => (e.id % 20) % 2;
  const toMessage = (e: KeyedEvent): Message => ({
    key: e.key,
    value: JSON.stringify(e),
    partition: partitionOf(e),
  });
  const newWorker = () =>
    new TopologyWorker(countSumTopology(name), { instanceId: 'a', kafka, endpoints, barrierIntervalMs: 200 });

  const firstRun = Array.from({ length: 1000 }, (_, id) => event(id));
  const later = Array.from({ length: 2000 }, (_, i) => event(1000 + i));
  const processed = firstRun.filter((e) => partitionOf(e) === 0).length;
  const deleted = new Set(
    later
      .filter((e) => partitionOf(e) === 0)
      .slice(0, DELETED)
      .map((e) => e.id),
  );
  const deleteUnprocessed = async () => {
    await produce(kafka, source, later.map(toMessage));
    await withAdmin(kafka, async (admin) => {
      await admin.fetchTopicMetadata({ topics: [source] });
      await admin.deleteTopicRecords({
        topic: source,
        partitions: [{ partition: 0, offset: String(processed + DELETED) }],
      });
    });
  };

  const lostBefore = [await lostCount(name, 0), await lostCount(name, 1)];
  let worker = newWorker();
  await worker.start();
  try {
    await produce(kafka, source, firstRun.map(toMessage));
    await waitForCommittedEnd(kafka, name, source, 60_000);
    if (during === 'down') {
      await worker.stop();
      await deleteUnprocessed();
      worker = newWorker();
      await worker.start();
    } else {
      // Held back as a worker stuck far behind would be.
      const consumer = (worker as unknown as { consumer: Consumer }).consumer;
      consumer.pause([{ topic: source, partitions: [0] }]);
      await deleteUnprocessed();
      consumer.resume([{ topic: source, partitions: [0] }]);
    }
    const flushes: Message[] = [0, 1].map((partition) => ({
      partition,
      key: 'flush',
      value: JSON.stringify({ id: -1, key: 'flush', ts: t0 + 3_000_000, amount: 0 }),
    }));
    await produce(kafka, source, flushes);
    await waitForCommittedEnd(kafka, name, source, 60_000);
  } finally {
    await worker.stop();
  }
  assert.equal((await lostCount(name, 0)) - (lostBefore[0] ?? 0), DELETED, 'the lost records are counted');
  assert.equal((await lostCount(name, 1)) - (lostBefore[1] ?? 0), 0, 'nothing was lost on partition 1');
  await assertWindowsEqualReference(
    kafka,
    `${name}.out`,
    [...firstRun, ...later].filter((e) => !deleted.has(e.id)),
  );
}

test(
  'a position deleted while the topology was down: it resumes at the log start and counts the loss',
  { timeout: 180_000 },
  () => retentionGap('retention-down', 'down'),
);

test(
  'records deleted while a running worker lagged: it goes on from the log start and counts the loss',
  { timeout: 180_000 },
  () => retentionGap('retention-lag', 'lagging'),
);
