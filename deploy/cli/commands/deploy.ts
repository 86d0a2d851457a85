/** `sluice deploy`: prepare the reference deployment (topics, feature views, ClickHouse migrations). */
import { Command } from 'commander';
import { positiveInteger } from '../options.js';
import { createClickHouseClient } from '../../../connectors/clickhouse/clickhouse-client.js';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { deployActor, deployReference } from '../../reference/deploy-reference.js';

export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description(
      'create topics, register feature views and apply ClickHouse migrations (idempotent, audited)',
    )
    .option('--partitions <n>', 'partitions of new topics (the unit of parallelism)', positiveInteger, 6)
    .option('--actor <name>', 'who deploys, for the audit log (default $SLUICE_ACTOR or the OS user)')
    .addHelpText(
      'after',
      '\nWith the embedded ClickHouse (no CLICKHOUSE_URL) run it before the workers start: one process owns\n' +
        'the chdb folder. Every deploy is appended to the audit log (SLUICE_AUDIT_LOG, default .state/audit.log).',
    )
    .action(async (opts: { partitions: number; actor?: string }) => {
      const endpoints = loadEndpoints();
      const kafka = createKafka(endpoints.kafkaBrokers, 'sluice-deploy');
      const clickhouse = createClickHouseClient(endpoints.clickhouse);
      try {
        const report = await deployReference(kafka, clickhouse, {
          partitions: opts.partitions,
          actor: opts.actor ?? deployActor(),
        });
        console.log(`topics:        ${report.topics.join(', ')}`);
        console.log(`feature views: ${report.featureViews.join(', ')}`);
        console.log(`migrations:    ${report.migrationsApplied} applied (the rest were already in place)`);
      } finally {
        await clickhouse.close();
      }
    });
}
