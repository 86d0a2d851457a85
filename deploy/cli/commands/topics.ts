/** `sluice topics list | create`: the Kafka topics of a deployment. */
import { Command } from 'commander';
import { positiveInteger } from '../options.js';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { ensureTopics } from '../../../connectors/kafka/topics.js';

export function registerTopicsCommands(program: Command): void {
  const topics = program.command('topics').description('Kafka topics: list and create');
  topics
    .command('list')
    .description('list topics with their partition counts')
    .action(async () => {
      const admin = createKafka(loadEndpoints().kafkaBrokers, 'sluice-cli').admin();
      await admin.connect();
      try {
        const meta = await admin.fetchTopicMetadata();
        for (const t of meta.topics.sort((a, b) => a.name.localeCompare(b.name))) {
          console.log(`${t.name.padEnd(48)} ${t.partitions.length} partition(s)`);
        }
      } finally {
        await admin.disconnect();
      }
    });
  topics
    .command('create')
    .description('create a topic if it does not exist (idempotent)')
    .argument('<topic>')
    .option('--partitions <n>', 'partition count: the unit of parallelism', positiveInteger, 6)
    .option('--compact', 'cleanup.policy=compact (changelogs, registries)')
    .action(async (topic: string, opts: { partitions: number; compact?: boolean }) => {
      const admin = createKafka(loadEndpoints().kafkaBrokers, 'sluice-cli').admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [
          { topic, numPartitions: opts.partitions, compacted: opts.compact ?? false },
        ]);
        console.log(`${topic}: ready`);
      } finally {
        await admin.disconnect();
      }
    });
}
