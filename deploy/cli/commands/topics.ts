/** `sluice topics list | create | align`: the Kafka topics of a deployment. */
import { Command } from 'commander';
import { positiveInteger, sourceTopicOf } from '../options.js';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { compactChangelog } from '../../../connectors/kafka/changelog-policy.js';
import { alignCoPartitioned, changelogTopic } from '../../../connectors/kafka/co-partitioned.js';
import { ensureTopics } from '../../../connectors/kafka/topics.js';
import { AuditLog, auditLogPath } from '../../../services/common/index.js';
import { deployActor } from '../../reference/deploy-reference.js';

export function registerTopicsCommands(program: Command): void {
  const topics = program.command('topics').description('Kafka topics: list, create and align');
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
  topics
    .command('align')
    .description(
      "fit a topology's own topics to its source: partitions for changelog, dead letters and late events, a compacted changelog (audited)",
    )
    .argument('<topology>')
    .option('--source <topic>', "the topology's source topic (default: the shipped topology's)")
    .option('--actor <name>', 'who aligns, for the audit log (default $SLUICE_ACTOR or the OS user)')
    .addHelpText(
      'after',
      "\nRun after adding partitions to a running topology's source: its workers refuse the new partitions\n" +
        'until then. Keys that now hash to another partition leave their open windows behind, so windows\n' +
        'open at the change may be emitted in parts. A changelog created without cleanup.policy=compact is\n' +
        'refused by workers too; align makes it compact and keeps its other settings.',
    )
    .action(async (topology: string, opts: { source?: string; actor?: string }) => {
      const source = sourceTopicOf(topology, opts.source);
      const audit = await AuditLog.open(auditLogPath());
      const admin = createKafka(loadEndpoints().kafkaBrokers, 'sluice-cli').admin();
      await admin.connect();
      try {
        const grown = await alignCoPartitioned(admin, topology, source);
        const changelog = changelogTopic(topology);
        const replacedPolicy = await compactChangelog(admin, changelog);
        if (grown.length === 0 && replacedPolicy === undefined) {
          return console.log(`${topology}: its topics already fit ${source}`);
        }
        for (const g of grown) console.log(`${g.topic}: ${g.from} -> ${g.to} partitions`);
        if (replacedPolicy !== undefined)
          console.log(`${changelog}: cleanup.policy ${replacedPolicy} -> compact`);
        await audit.record({
          actor: opts.actor ?? deployActor(),
          action: 'topics.align',
          target: `topology:${topology}`,
          details: { source, grown, ...(replacedPolicy ? { cleanupPolicy: { from: replacedPolicy } } : {}) },
        });
      } finally {
        await admin.disconnect();
      }
    });
}
