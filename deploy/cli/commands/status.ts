/**
 * `sluice status [topology...]`: is each topology keeping up? Its consumer group (state, members) and its
 * lag per source partition, read from Kafka itself like any Kafka tool, so it is right wherever the
 * workers run. The control page shows the same; this needs no control service and no token.
 */
import { Command } from 'commander';
import type { Admin } from 'kafkajs';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { kafkaLagReader } from '../../../services/control/kafka-lag.js';
import type { PartitionLag } from '../../../services/control/sources.js';
import { ALERT_WEBHOOKS_GROUP } from '../../../services/alerts/alert-dispatcher.js';
import { trainerOptionsFromEnv } from '../../../services/trainer/retrain/main.js';
import { TRAINER_GROUP } from '../../../services/trainer/retrain/retrain-service.js';
import { shippedTopologies } from '../../../topologies/catalog.js';
import { RETRAIN_REQUESTS_TOPIC } from '../../../topologies/drift/drift-topology.js';
import { alertsTopicFromEnv } from '../../../topologies/scoring/alerts.js';

interface TopologyStatus {
  /** A topology, or one of the services that consume Kafka (the alert dispatcher, the trainer). */
  readonly topology: string;
  readonly source: string;
  /** Kafka's group state: Stable, PreparingRebalance, CompletingRebalance, Empty (no worker), Dead. */
  readonly state: string;
  readonly members: readonly { readonly clientId: string; readonly host: string }[];
  /** Kafka calls a group it does not know "Dead"; with nothing ever committed, the topology never ran. */
  readonly neverRan: boolean;
  readonly lag: { readonly total: number; readonly partitions: readonly PartitionLag[] } | null;
  readonly error?: string;
}

async function statusOf(
  admin: Admin,
  topology: string,
  source: string,
  // A topology's consumer group is named after it (topologies/runtime/worker.ts).
  groupId = topology,
): Promise<TopologyStatus> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  const members = (group?.members ?? []).map((m) => ({ clientId: m.clientId, host: m.clientHost }));
  const base = { topology, source, state: group?.state ?? 'Dead', members };
  try {
    const partitions = await kafkaLagReader(admin).lag(groupId, [source]);
    const neverRan = base.state === 'Dead' && partitions.every((p) => p.committed === null);
    return { ...base, neverRan, lag: { total: partitions.reduce((s, p) => s + p.lag, 0), partitions } };
  } catch (err) {
    return { ...base, neverRan: false, lag: null, error: err instanceof Error ? err.message : String(err) };
  }
}

function printTable(statuses: readonly TopologyStatus[]): void {
  const rows = statuses.map((s) => [
    s.topology,
    s.neverRan ? 'never ran' : s.state,
    String(s.members.length),
    s.lag === null ? '-' : s.lag.total.toLocaleString('en-US'),
    s.lag === null
      ? `(${s.error})`
      : s.lag.partitions
          .map((p) => `${p.partition}:${p.committed === null ? 'never committed' : p.lag}`)
          .join(' '),
  ]);
  const header = ['topology / service', 'group state', 'workers', 'lag', 'lag per partition of the source'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) {
    console.log(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  }
}

export function registerStatusCommands(program: Command): void {
  program
    .command('status')
    .description(
      "each topology's consumer group (state, workers) and its lag per source partition; with no names, also the alert dispatcher and the trainer",
    )
    .argument('[topology...]', 'shipped topologies to show (default: all of them)')
    .option('--source <topic>', 'the source topic, for one topology that is not a shipped one')
    .option('--json', 'print JSON instead of a table')
    .action(async (names: string[], opts: { source?: string; json?: boolean }) => {
      const wanted = names.length > 0 ? names : shippedTopologies.map((t) => t.name);
      const sources: [string, string][] = [];
      for (const name of wanted) {
        const source =
          shippedTopologies.find((t) => t.name === name)?.sourceTopic ??
          (wanted.length === 1 ? opts.source : undefined);
        if (source === undefined) {
          console.error(
            `${name} is not a shipped topology (${shippedTopologies.map((t) => t.name).join(', ')}); ` +
              'for another one, name it alone with its source: sluice status <topology> --source <topic>',
          );
          process.exitCode = 2;
          return;
        }
        sources.push([name, source]);
      }
      const admin = createKafka(loadEndpoints().kafkaBrokers, 'sluice-cli-status').admin();
      await admin.connect();
      try {
        const statuses: TopologyStatus[] = [];
        for (const [name, source] of sources) statuses.push(await statusOf(admin, name, source));
        if (names.length === 0) {
          // Lag here means alerts not yet delivered to on-call, or retrain requests not yet answered.
          statuses.push(await statusOf(admin, 'alert webhooks', alertsTopicFromEnv(), ALERT_WEBHOOKS_GROUP));
          statuses.push(
            await statusOf(
              admin,
              'trainer',
              trainerOptionsFromEnv().topic ?? RETRAIN_REQUESTS_TOPIC,
              TRAINER_GROUP,
            ),
          );
        }
        if (opts.json) console.log(JSON.stringify(statuses, null, 2));
        else printTable(statuses);
      } finally {
        await admin.disconnect();
      }
    });
}
