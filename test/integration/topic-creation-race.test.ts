/**
 * Replicas of a topology that start together all try to create its changelog topic. The ones that lose
 * the race see the topic listed before its partitions are in the metadata; they must wait for them and
 * agree on the count, not fail with "has undefined partitions" and crash.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ensureTopics, partitionCount } from '../../connectors/kafka/topics.js';
import { deleteTopics, testKafka, uniqueName } from '../support/kafka.js';

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

test('concurrent ensureTopics of one compacted topic all succeed and see its partitions', async () => {
  // One client each, as separate worker processes have.
  const admins = Array.from({ length: 4 }, () => testKafka().admin());
  await Promise.all(admins.map((a) => a.connect()));
  try {
    for (let round = 0; round < 20; round += 1) {
      const name = uniqueName('race');
      const topic = `${name}-changelog`;
      created.push(`${name}.dlq`, `${name}.late`, topic);
      // What a worker ensures at start: its side outputs and its changelog, in one request.
      const specs = [
        { topic: `${name}.dlq`, numPartitions: 6 },
        { topic: `${name}.late`, numPartitions: 6 },
        { topic, numPartitions: 6, compacted: true },
      ];
      const results = await Promise.allSettled(admins.map((admin) => ensureTopics(admin, specs)));
      const failures = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
      assert.deepEqual(failures, [], `round ${round}: some replicas failed`);
      const counts = await Promise.all(admins.map((admin) => partitionCount(admin, topic)));
      assert.deepEqual(counts, [6, 6, 6, 6]);
    }
  } finally {
    await Promise.all(admins.map((a) => a.disconnect()));
  }
});
