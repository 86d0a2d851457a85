/** `sluice reset <topology>`: reprocess a topology's source from an earlier point (topologies/runtime/reset.ts). */
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { sourceTopicOf } from '../options.js';
import {
  applyReset,
  planReset,
  type ResetPlan,
  type ResetTarget,
} from '../../../topologies/runtime/reset.js';
import { AuditLog, auditLogPath } from '../../../services/common/index.js';
import { deployActor } from '../../reference/deploy-reference.js';

/** earliest | latest | an ISO-8601 date-time with its zone (a bare local time would depend on the host). */
export function parseResetTarget(value: string): ResetTarget {
  if (value === 'earliest' || value === 'latest') return { kind: value };
  const at = /(Z|[+-]\d\d:?\d\d)$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(at)) {
    throw new InvalidArgumentError(
      'must be earliest, latest or an ISO-8601 date-time with a zone, e.g. 2026-11-24T08:00:00Z',
    );
  }
  return { kind: 'datetime', at };
}

const describeTarget = (to: ResetTarget): string =>
  to.kind === 'datetime'
    ? `the first record at or after ${new Date(to.at).toISOString()}`
    : `the ${to.kind} offsets`;

function printPlan(plan: ResetPlan): void {
  console.log(
    `topology ${plan.topology}: group ${plan.groupId} on ${plan.sourceTopic} -> ${describeTarget(plan.to)}`,
  );
  for (const p of plan.partitions)
    console.log(`  partition ${p.partition}: ${p.from ?? '(none)'} -> ${p.to}`);
  console.log(
    plan.changelog === null
      ? '  state: none yet'
      : `  state: delete ${plan.changelog} (windows and positions; the next workers start empty)`,
  );
}

export function registerResetCommands(program: Command): void {
  program
    .command('reset')
    .description(
      "reprocess a topology's source from an earlier point: its group's offsets and its state (audited)",
    )
    .argument('<topology>')
    .addOption(
      new Option('--to <point>', 'earliest, latest, or an ISO-8601 date-time with a zone')
        .argParser(parseResetTarget)
        .default({ kind: 'earliest' } satisfies ResetTarget, 'earliest'),
    )
    .option('--source <topic>', "the topology's source topic (default: the shipped topology's)")
    .option('--group <id>', "the topology's consumer group (default: its name)")
    .option('--yes', 'carry it out; without it the plan is only printed')
    .option('--actor <name>', 'who resets, for the audit log (default $SLUICE_ACTOR or the OS user)')
    .addHelpText(
      'after',
      '\nStop every worker of the topology first: a reset while one runs is refused. Output, dead-letter and\n' +
        'late topics keep what they hold, and reprocessing appends to them again (sinks are idempotent).\n' +
        'Windows that began before a --to date-time are emitted with only the records after it.',
    )
    .action(
      async (
        topology: string,
        opts: { to: ResetTarget; source?: string; group?: string; yes?: boolean; actor?: string },
      ) => {
        const source = sourceTopicOf(topology, opts.source);
        const admin = createKafka(loadEndpoints().kafkaBrokers, 'sluice-cli').admin();
        await admin.connect();
        try {
          const plan = await planReset(admin, {
            topology,
            sourceTopic: source,
            to: opts.to,
            ...(opts.group ? { groupId: opts.group } : {}),
          });
          printPlan(plan);
          if (!opts.yes) return console.log('dry run: nothing changed; add --yes to reset');
          const audit = await AuditLog.open(auditLogPath());
          await applyReset(admin, plan);
          await audit.record({
            actor: opts.actor ?? deployActor(),
            action: 'topology.reset',
            target: `topology:${topology}`,
            details: {
              groupId: plan.groupId,
              source: plan.sourceTopic,
              to: plan.to.kind === 'datetime' ? new Date(plan.to.at).toISOString() : plan.to.kind,
              partitions: plan.partitions,
              deletedState: plan.changelog,
            },
          });
          console.log(`reset: start the workers to reprocess ${source} from there`);
        } finally {
          await admin.disconnect();
        }
      },
    );
}
