/**
 * `sluice features list | describe | diff | register | migrate | training-set`: the feature store from the
 * command line. Views are defined in code (topologies/features/views); the registry (a compacted Kafka
 * topic) remembers every version ever registered, so versions can be listed and diffed after the code moved on.
 */
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { createClickHouseClient } from '../../../connectors/clickhouse/clickhouse-client.js';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { FeatureViewError, featureTableName } from '../../../connectors/feature-sinks/index.js';
import { DEFAULT_KEY_PREFIX, featureKey } from '../../../connectors/redis/index.js';
import { createKafka } from '../../../connectors/kafka/client.js';
import { describeView, type FeatureViewDescriptor } from '../../../topologies/features/feature-view.js';
import { setUpFeatureStore } from '../../../topologies/features/feature-store-setup.js';
import { definedViews, UnknownViewError, viewByName } from '../../../topologies/features/view-catalog.js';
import { diffViews, formatChanges } from '../../../topologies/features/view-diff.js';
import {
  FeatureViewRegistry,
  type RegisteredView,
} from '../../../topologies/features/view-registry-store.js';
import {
  buildTrainingSet,
  LabelInputError,
  readLabelsFile,
  type LabelColumns,
  type LabelSource,
} from '../../../services/training-set/index.js';

/** Errors a user can fix: one line, exit 2 (main.ts prints a stack only for bugs). */
async function userErrors(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (
      err instanceof UnknownViewError ||
      err instanceof LabelInputError ||
      err instanceof FeatureViewError
    ) {
      console.error(`sluice: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

const registry = () =>
  new FeatureViewRegistry(createKafka(loadEndpoints().kafkaBrokers, 'sluice-cli-features'));

function describeLines(d: FeatureViewDescriptor, reg?: RegisteredView): string[] {
  return [
    `name:         ${d.name}`,
    `version:      ${d.version}`,
    `entity:       ${d.entity}`,
    `source:       topology ${d.source.topology}, topic ${d.source.topic}`,
    `window:       ${d.window} (grace ${d.graceMs} ms, out-of-orderness ${d.outOfOrdernessMs} ms)`,
    `ttl:          ${d.ttlMs} ms`,
    `owner:        ${d.owner}`,
    `tags:         ${d.tags.join(', ') || '-'}`,
    `description:  ${d.description}`,
    // Where to find the rows: analysts query the offline table, applications the online key.
    `offline:      ClickHouse table ${featureTableName(d)} (query with FINAL: README, Querying in ClickHouse)`,
    `online:       Redis hash ${featureKey(DEFAULT_KEY_PREFIX, d.name, `<${d.entity}>`)}`,
    ...(reg
      ? [`registered:   ${new Date(reg.registeredAt).toISOString()}`]
      : ['registered:   no (run `sluice features register`)']),
    'features:',
    ...Object.keys(d.features)
      .sort()
      .map((f) => `  ${f.padEnd(24)} ${d.features[f]}`),
  ];
}

/** A version named on the command line: a registered one, or 'code' for the definition in this checkout. */
async function resolveVersion(
  name: string,
  version: string,
  versions: RegisteredView[],
): Promise<FeatureViewDescriptor> {
  if (version === 'code') return describeView(viewByName(name));
  const found = versions.find((v) => v.descriptor.version === version);
  if (!found) {
    throw new UnknownViewError(
      `view ${name} has no registered version ${version}; registered: ${versions.map((v) => v.descriptor.version).join(', ') || '(none)'} (or use "code")`,
    );
  }
  return found.descriptor;
}

const list = (value: string) => {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0)
    throw new InvalidArgumentError('give at least one view, e.g. --views card_txn_1m,card_session');
  return items;
};

export function registerFeaturesCommands(program: Command): void {
  const features = program
    .command('features')
    .description('feature views: list, describe, diff, register, training sets');

  features
    .command('list')
    .description('every view defined in code and every version in the registry')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      userErrors(async () => {
        const all = [...(await registry().all()).values()];
        const names = [
          ...new Set([...definedViews.map((v) => v.name), ...all.map((v) => v.descriptor.name)]),
        ].sort();
        const rows = names.map((name) => {
          const code = definedViews.find((v) => v.name === name);
          const versions = all
            .filter((v) => v.descriptor.name === name)
            .sort((a, b) => a.registeredAt - b.registeredAt);
          return {
            name,
            codeVersion: code?.version ?? null,
            registered: versions.map((v) => v.descriptor.version),
            owner: code?.owner ?? versions.at(-1)?.descriptor.owner ?? '',
            tags: [...(code?.tags ?? versions.at(-1)?.descriptor.tags ?? [])],
          };
        });
        if (opts.json) return console.log(JSON.stringify(rows, null, 2));
        console.log(
          `${'VIEW'.padEnd(20)} ${'CODE'.padEnd(9)} ${'REGISTERED VERSIONS'.padEnd(28)} ${'OWNER'.padEnd(12)} TAGS`,
        );
        for (const r of rows) {
          const registered = r.registered.join(',') || '-';
          const mark =
            r.codeVersion && !r.registered.includes(r.codeVersion) ? ' (code version not registered)' : '';
          console.log(
            `${r.name.padEnd(20)} ${(r.codeVersion ?? '-').padEnd(9)} ${registered.padEnd(28)} ${r.owner.padEnd(12)} ${r.tags.join(',')}${mark}`,
          );
        }
      }),
    );

  features
    .command('describe')
    .argument('<name>', 'view name, e.g. card_txn_1m')
    .option(
      '--version <version>',
      'a registered version (default: the one defined in code, else the latest registered)',
    )
    .description("a view's schema and metadata")
    .action((name: string, opts: { version?: string }) =>
      userErrors(async () => {
        const versions = await registry().versions(name);
        const code = definedViews.find((v) => v.name === name);
        const version = opts.version ?? code?.version ?? versions.at(-1)?.descriptor.version;
        if (!version)
          throw new UnknownViewError(`no feature view named "${name}" in code or in the registry`);
        const reg = versions.find((v) => v.descriptor.version === version);
        const d =
          reg?.descriptor ??
          (code?.version === version ? describeView(code) : await resolveVersion(name, version, versions));
        for (const line of describeLines(d, reg)) console.log(line);
      }),
    );

  features
    .command('diff')
    .argument('<name>', 'view name')
    .argument('<a>', 'a registered version, or "code"')
    .argument('<b>', 'a registered version, or "code"')
    .description('what changed between two versions of a view')
    .action((name: string, a: string, b: string) =>
      userErrors(async () => {
        const versions = await registry().versions(name);
        const changes = diffViews(
          await resolveVersion(name, a, versions),
          await resolveVersion(name, b, versions),
        );
        for (const line of formatChanges(changes)) console.log(line);
      }),
    );

  features
    .command('register')
    .description('publish the views defined in code to the registry and create their offline tables')
    .action(() =>
      userErrors(async () => {
        const endpoints = loadEndpoints();
        const client = createClickHouseClient(endpoints.clickhouse);
        try {
          const report = await setUpFeatureStore(
            createKafka(endpoints.kafkaBrokers, 'sluice-cli-features'),
            client,
          );
          console.log(`registered: ${report.registry.registered.join(', ') || '-'}`);
          console.log(`updated:    ${report.registry.updated.join(', ') || '-'}`);
          console.log(`unchanged:  ${report.registry.unchanged.join(', ') || '-'}`);
          console.log(
            `tables created: ${report.migrations.applied.length}, already there: ${report.migrations.alreadyApplied.length}`,
          );
        } finally {
          await client.close();
        }
      }),
    );

  features
    .command('training-set')
    .description('point-in-time training set: features of each view as of each label time, never after')
    .requiredOption(
      '--labels <table|file>',
      'a CSV file (header with entity, time, label columns) or a ClickHouse table',
    )
    .requiredOption('--views <names>', 'comma-separated view names, e.g. card_txn_1m,card_txn_1h', list)
    .requiredOption('--out <file>', 'CSV file to write')
    .option('--entity-col <name>', 'entity column of the labels', 'entity')
    .option(
      '--time-col <name>',
      'label time column (epoch ms, ISO 8601 in files, or DateTime in tables)',
      'ts',
    )
    .option('--label-col <name>', 'label column', 'label')
    .option('--with-window-end', 'add <view>.window_end columns (when each used window ended), for audits')
    .addHelpText(
      'after',
      '\nWith the embedded store (no CLICKHOUSE_URL) no worker may hold the chdb folder meanwhile.',
    )
    .action(
      (opts: {
        labels: string;
        views: string[];
        out: string;
        entityCol: string;
        timeCol: string;
        labelCol: string;
        withWindowEnd?: boolean;
      }) =>
        userErrors(async () => {
          const views = opts.views.map((n) => viewByName(n));
          const columns: LabelColumns = { entity: opts.entityCol, time: opts.timeCol, label: opts.labelCol };
          const labels: LabelSource = existsSync(opts.labels)
            ? { kind: 'events', events: readLabelsFile(opts.labels, columns) }
            : /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(opts.labels)
              ? { kind: 'table', table: opts.labels, columns }
              : (() => {
                  throw new LabelInputError(
                    `--labels ${opts.labels} is neither an existing file nor a table name`,
                  );
                })();
          const client = createClickHouseClient(loadEndpoints().clickhouse);
          const bar = new cliProgress.SingleBar(
            { format: 'training set [{bar}] {percentage}% | {value}/{total} labels', stream: process.stderr },
            cliProgress.Presets.shades_classic,
          );
          let started = false;
          try {
            const result = await buildTrainingSet({
              client,
              labels,
              views,
              out: opts.out,
              includeWindowEnd: opts.withWindowEnd,
              onProgress: (done, total) => {
                if (!started) bar.start(total, 0);
                started = true;
                bar.update(done);
              },
            });
            if (started) bar.stop();
            console.log(`rows:   ${result.rows}`);
            console.log(`sha256: ${result.sha256}`);
            console.log(`file:   ${result.file}`);
          } finally {
            if (started) bar.stop();
            await client.close();
          }
        }),
    );
}
