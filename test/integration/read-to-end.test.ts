/**
 * readToEnd, which state restores use: it reads only the partitions asked for (a worker restoring its 2 of
 * 6 changelog partitions must not fetch the other 4, which other workers own) and reports its progress.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readToEnd } from '../../connectors/kafka/read-to-end.js';
import { createTopic, deleteTopics, produce, testKafka, uniqueName, watchedKafka } from '../support/kafka.js';

const kafka = testKafka();
const topic = uniqueName('read-to-end');
const PER_PARTITION = 5_000;

test(
  'only the partitions asked for are fetched, with progress after each batch',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, topic, 6);
    const messages = Array.from({ length: 6 * PER_PARTITION }, (_, i) => ({
      key: `k${i}`,
      value: 'v'.repeat(100),
      partition: i % 6,
    }));
    await produce(kafka, topic, messages);

    const fetched = new Set<number>();
    const watched = watchedKafka(kafka, {
      consumer: (consumer, config) => {
        if (config.groupId.startsWith('rte-test')) {
          consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => fetched.add(payload.partition));
        }
      },
    });
    const read = new Map<number, number>();
    const progress: { messages: number; pending: readonly number[] }[] = [];
    await readToEnd(watched, topic, (partition) => read.set(partition, (read.get(partition) ?? 0) + 1), {
      partitions: [1, 4],
      groupPrefix: 'rte-test',
      onProgress: (p) => progress.push(p),
    });

    assert.deepEqual([...read.entries()].sort(), [
      [1, PER_PARTITION],
      [4, PER_PARTITION],
    ]);
    assert.deepEqual([...fetched].sort(), [1, 4], 'the other partitions were paused before any fetch');
    assert.ok(progress.length > 0, 'progress was reported');
    const counts = progress.map((p) => p.messages);
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => a - b),
      'progress only moves forward',
    );
    assert.ok(progress.every((p) => p.pending.every((partition) => partition === 1 || partition === 4)));
  },
);

after(async () => {
  await deleteTopics(kafka, [topic]);
});
