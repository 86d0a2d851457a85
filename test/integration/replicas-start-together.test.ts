/**
 * Two replicas of a topology deployed at once (a Deployment scaled to 2) start at the same moment, race
 * to create the topology's topics, and split the partitions between them. Both must start, and the
 * windows they emit together must equal the reference exactly: nothing lost, nothing counted twice.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Message } from 'kafkajs';
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

const PARTITIONS = 6;

test(
  'two replicas started at the same moment both run, and together emit exactly the reference',
  {
    timeout: 300_000,
  },
  async () => {
    const name = uniqueName('replicas');
    created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
    await createTopic(kafka, `${name}.in`, PARTITIONS);
    const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 3_600_000;
    const events: KeyedEvent[] = Array.from({ length: 6000 }, (_, id) => ({
      id,
      key: `card-${id % 40}`,
      ts: t0 + id * 20,
      amount: 1 + (id % 7),
    }));
    // Each partition's watermark passes its last window only with a later event on that partition (within
    // the decoder's future-time limit).
    const flushes: Message[] = Array.from({ length: PARTITIONS }, (_, partition) => ({
      partition,
      key: 'flush',
      value: JSON.stringify({ id: -1, key: 'flush', ts: t0 + 3_000_000, amount: 0 }),
    }));
    await produce(kafka, `${name}.in`, [
      ...events.map((e) => ({ key: e.key, value: JSON.stringify(e) })),
      ...flushes,
    ]);

    const replicas = ['a', 'b'].map(
      (instanceId) =>
        new TopologyWorker(countSumTopology(name), {
          instanceId,
          kafka,
          endpoints,
          barrierEveryRecords: 500,
          barrierIntervalMs: 200,
        }),
    );
    try {
      const started = await Promise.allSettled(replicas.map((r) => r.start()));
      const failures = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      assert.deepEqual(
        failures.map((f) => String(f.reason)),
        [],
        'both replicas start',
      );
      await waitForCommittedEnd(kafka, name, `${name}.in`, 120_000);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
    await assertWindowsEqualReference(kafka, `${name}.out`, events);
  },
);
