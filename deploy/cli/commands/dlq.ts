/** `sluice dlq list | replay`: what a topology dead-lettered and why, and putting it back once fixed. */
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { deadLetterTopic } from '../../../connectors/kafka/dead-letter.js';
import { parseDeadLetter, type DeadLetter } from '../../../connectors/kafka/dead-letter-record.js';
import {
  replayDeadLetters,
  requireReplayTopics,
  type ReplayReport,
} from '../../../connectors/kafka/dead-letter-replay.js';
import { readToEnd } from '../../../connectors/kafka/read-to-end.js';
import { AuditLog, auditLogPath } from '../../../services/common/index.js';
import { deployActor } from '../../reference/deploy-reference.js';
import { positiveInteger } from '../options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function requireDeadLetterTopic(kafka: Kafka, topology: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await requireReplayTopics(admin, topology);
  } finally {
    await admin.disconnect();
  }
}

function printReport(report: ReplayReport): void {
  const verb = report.dryRun ? 'would replay' : 'replayed';
  const byCode = Object.entries(report.replayedByCode).map(([code, n]) => `${code} ${n}`);
  console.log(`${verb}: ${report.replayed}${byCode.length > 0 ? ` (${byCode.join(', ')})` : ''}`);
  console.log(`passed over (other codes): ${report.passedOver}`);
  for (const [why, n] of Object.entries(report.notReplayable)) console.log(`not replayable, ${why}: ${n}`);
  console.log(`group: ${report.groupId}${report.dryRun ? ' (dry run: nothing written or committed)' : ''}`);
}

export function registerDlqCommands(program: Command): void {
  const dlq = program
    .command('dlq')
    .description("a topology's dead letters: list them by reason, replay them once the cause is fixed");

  dlq
    .command('list')
    .description('count dead letters by reason code and source partition, and show the latest')
    .argument('<topology>')
    .option('--latest <n>', 'how many of the latest letters to show', positiveInteger, 10)
    .action(async (topology: string, opts: { latest: number }) => {
      const kafka = createKafka(loadEndpoints().kafkaBrokers, 'sluice-dlq');
      await requireDeadLetterTopic(kafka, topology);
      const byCode = new Map<string, number>();
      const byPartition = new Map<string, number>();
      const latest: Array<{ at: number; letter: DeadLetter }> = [];
      await readToEnd(kafka, deadLetterTopic(topology), (_partition, message) => {
        const letter = parseDeadLetter(message);
        if (letter instanceof Error) return;
        byCode.set(letter.reason.code, (byCode.get(letter.reason.code) ?? 0) + 1);
        const from = `${letter.source.topic}/${letter.source.partition}`;
        byPartition.set(from, (byPartition.get(from) ?? 0) + 1);
        latest.push({ at: Number(message.timestamp), letter });
        latest.sort((a, b) => a.at - b.at);
        if (latest.length > opts.latest) latest.shift();
      });
      if (byCode.size === 0) return console.log(`${deadLetterTopic(topology)}: no dead letters`);
      console.log('by reason code:');
      for (const [code, n] of [...byCode].sort((a, b) => b[1] - a[1]))
        console.log(`  ${code.padEnd(28)} ${n}`);
      console.log('by source partition:');
      for (const [from, n] of [...byPartition].sort()) console.log(`  ${from.padEnd(28)} ${n}`);
      console.log(`latest ${latest.length}:`);
      for (const { letter } of latest) {
        const s = letter.source;
        const note = letter.notReplayable ? ` [not replayable: ${letter.notReplayable}]` : '';
        console.log(
          `  ${s.topic}/${s.partition}@${s.offset} ${letter.reason.code}: ${letter.reason.message.slice(0, 160)}${note}`,
        );
      }
    });

  dlq
    .command('replay')
    .description('write dead-lettered records back to their topic, exactly once per --group (audited)')
    .argument('<topology>')
    .option('--code <code>', 'replay only letters with this reason code (repeatable)', collect)
    .option('--to <topic>', 'write to this topic instead of the one each record came from')
    .option('--group <id>', 'remembers how far replays got (default <topology>.dlq-replay)')
    .option('--dry-run', 'count what would be replayed; write and commit nothing')
    .option('--actor <name>', 'who replays, for the audit log (default $SLUICE_ACTOR or the OS user)')
    .addHelpText(
      'after',
      '\nRecords go back to the partition they were read from, with a sluice.replay.of header naming the\n' +
        'letter. Letters passed over by --code still count as done for the group: a later replay of other\n' +
        'codes needs a new --group. Letters cut to fit the dead-letter topic, and whole compressed batches,\n' +
        'are never replayed (listed instead). Every replay is appended to the audit log (SLUICE_AUDIT_LOG).',
    )
    .action(
      async (
        topology: string,
        opts: { code?: string[]; to?: string; group?: string; dryRun?: boolean; actor?: string },
      ) => {
        const kafka = createKafka(loadEndpoints().kafkaBrokers, 'sluice-dlq');
        // Opened first: a replay that could not be audited must not start.
        const audit = opts.dryRun ? undefined : await AuditLog.open(auditLogPath());
        const bar = new cliProgress.SingleBar(
          { format: 'replay [{bar}] {percentage}% | {value}/{total} letters', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        let started = false;
        let report: ReplayReport;
        try {
          report = await replayDeadLetters(kafka, {
            topology,
            ...(opts.code ? { codes: opts.code } : {}),
            ...(opts.to ? { toTopic: opts.to } : {}),
            ...(opts.group ? { groupId: opts.group } : {}),
            dryRun: opts.dryRun ?? false,
            onProgress: ({ read, total }) => {
              if (!started) bar.start(total, 0);
              started = true;
              bar.update(read);
            },
          });
        } finally {
          if (started) bar.stop();
        }
        printReport(report);
        await audit?.record({
          actor: opts.actor ?? deployActor(),
          action: 'dlq.replay',
          target: `topology:${topology}`,
          details: { ...report, codes: opts.code ?? 'all', to: opts.to ?? 'source topics' },
        });
      },
    );
}
