/**
 * A topology down for longer than its source's retention comes back to a position the broker has
 * deleted. It must resume at the log start, count what was lost, and process everything still there;
 * before, the out-of-range reset and the worker's alignment check sought back and forth for good.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Message } from 'kafkajs';
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

async function lostCount(topology: string, partition: number): Promise<number> {
  const metric = await register.getSingleMetric('sluice_source_records_lost_total')?.get();
  const sample = metric?.values.find(
    (v) => v.labels.topology === topology && v.labels.partition === String(partition),
  );
  return sample?.value ?? 0;
}

test(
  'a position deleted by retention: the worker resumes at the log start and counts what was lost',
  { timeout: 180_000 },
  async () => {
    const name = uniqueName('retention-gap');
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
      new TopologyWorker(countSumTopology(name), {
        instanceId: 'a',
        kafka,
        endpoints,
        barrierIntervalMs: 200,
      });

    const firstRun = Array.from({ length: 1000 }, (_, id) => event(id));
    const whileDown = Array.from({ length: 2000 }, (_, i) => event(1000 + i));
    const worker = newWorker();
    await worker.start();
    try {
      await produce(kafka, source, firstRun.map(toMessage));
      await waitForCommittedEnd(kafka, name, source, 60_000);
    } finally {
      await worker.stop();
    }

    // While the topology is down, more arrives and retention deletes part of it from partition 0.
    await produce(kafka, source, whileDown.map(toMessage));
    const processed = firstRun.filter((e) => partitionOf(e) === 0).length;
    const cut = processed + 300;
    const admin = kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [source] });
    await admin.deleteTopicRecords({ topic: source, partitions: [{ partition: 0, offset: String(cut) }] });
    await admin.disconnect();
    const deleted = new Set(
      whileDown
        .filter((e) => partitionOf(e) === 0)
        .slice(0, cut - processed)
        .map((e) => e.id),
    );
    assert.equal(deleted.size, 300);

    const lostBefore = await lostCount(name, 0);
    const restarted = newWorker();
    await restarted.start();
    try {
      const flushes: Message[] = [0, 1].map((partition) => ({
        partition,
        key: 'flush',
        value: JSON.stringify({ id: -1, key: 'flush', ts: t0 + 3_000_000, amount: 0 }),
      }));
      await produce(kafka, source, flushes);
      await waitForCommittedEnd(kafka, name, source, 60_000);
    } finally {
      await restarted.stop();
    }
    assert.equal((await lostCount(name, 0)) - lostBefore, 300, 'the lost records are counted');
    assert.equal(await lostCount(name, 1), 0, 'nothing was lost on partition 1');
    await assertWindowsEqualReference(
      kafka,
      `${name}.out`,
      [...firstRun, ...whileDown].filter((e) => !deleted.has(e.id)),
    );
  },
);
