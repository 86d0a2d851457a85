/** The ceiling for a topology on a topic: a bare kafkajs consumer group that only counts its records. */
import type { Kafka } from 'kafkajs';
import { uniqueName } from '../support/kafka.js';

/** Records per second from the group's partition assignment until `total` records were fetched. */
export async function rawConsumeRate(kafka: Kafka, topic: string, total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: uniqueName('bench-raw'), maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let started: bigint | undefined;
    consumer.on(consumer.events.GROUP_JOIN, () => (started ??= process.hrtime.bigint()));
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`raw consume of ${topic} saw ${seen} of ${total}`)),
        60_000,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            seen += batch.messages.length;
            if (seen >= total) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return (total * 1e9) / Number(process.hrtime.bigint() - (started ?? 0n));
  } finally {
    await consumer.disconnect();
  }
}
