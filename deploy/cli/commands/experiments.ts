/** `sluice experiments list | show | report`: versioned A/B configs and their evaluation against labels. */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { positiveInteger } from '../options.js';
import { createClickHouseClient } from '../../../connectors/clickhouse/clickhouse-client.js';
import { loadEndpoints } from '../../../connectors/config/endpoints.js';
import { FileExperimentStore, type ExperimentDraft } from '../../../connectors/experiments/index.js';
import { AuditLog, auditLogPath } from '../../../services/common/index.js';
import { deployActor } from '../../reference/deploy-reference.js';
import { experimentReport } from '../../../services/experiments-report/experiment-report.js';

export function registerExperimentsCommands(program: Command): void {
  const experiments = program.command('experiments').description('A/B and shadow experiments');
  experiments
    .command('list')
    .description('experiments and their versions')
    .action(async () => {
      const store = new FileExperimentStore();
      const names = await store.names();
      if (names.length === 0)
        console.log('no experiments (SLUICE_EXPERIMENT_DIR, default .state/experiments)');
      for (const name of names)
        console.log(`${name.padEnd(32)} versions ${(await store.versions(name)).join(', ')}`);
    });
  experiments
    .command('show')
    .description('print an experiment config (latest version unless --version)')
    .argument('<name>')
    .option('--version <n>', 'a specific version', positiveInteger)
    .action(async (name: string, opts: { version?: number }) => {
      console.log(JSON.stringify(await new FileExperimentStore().get(name, opts.version), null, 2));
    });
  experiments
    .command('set')
    .description('save a new version of an experiment from a JSON file (validated; old versions are kept)')
    .argument(
      '<file>',
      'JSON: { name, salt, variants: [{ name, model, stage?|modelVersion?, weight }], shadows: [...] }',
    )
    .option('--actor <name>', 'who, for the audit log (default $SLUICE_ACTOR or the OS user)')
    .addHelpText(
      'after',
      '\nRunning scoring workers switch to the new version within a few seconds (a version whose models\n' +
        'cannot be loaded is refused with an alert, and the current one keeps serving).',
    )
    .action(async (file: string, opts: { actor?: string }) => {
      const draft = JSON.parse(await readFile(file, 'utf8')) as ExperimentDraft;
      const saved = await new FileExperimentStore().save(draft);
      await (
        await AuditLog.open(auditLogPath())
      ).record({
        actor: opts.actor ?? deployActor(),
        action: 'experiment.set',
        target: `experiment:${saved.name}@${saved.version}`,
        details: { variants: saved.variants, shadows: saved.shadows },
      });
      console.log(`${saved.name} is now at version ${saved.version}`);
    });
  experiments
    .command('report')
    .description(
      'per variant: labelled n, AUC with a bootstrap 95% CI, log loss, precision@k (ClickHouse SQL)',
    )
    .argument('<name>')
    .option('--k <n>', 'precision at the top k scores', positiveInteger, 100)
    .option('--resamples <n>', 'bootstrap resamples for the AUC interval', positiveInteger, 200)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nWith the embedded ClickHouse, no worker may hold the chdb folder meanwhile.')
    .action(async (name: string, opts: { k: number; resamples: number; json?: boolean }) => {
      const client = createClickHouseClient(loadEndpoints().clickhouse);
      try {
        const report = await experimentReport(client, name, { k: opts.k, resamples: opts.resamples });
        if (opts.json) return console.log(JSON.stringify(report, null, 2));
        console.log(formatReport(report));
      } finally {
        await client.close();
      }
    });
}

export function formatReport(report: Awaited<ReturnType<typeof experimentReport>>): string {
  const lines = [
    `experiment ${report.experiment} (${report.experimentVersion === null ? 'all versions' : `version ${report.experimentVersion}`}), ${report.resamples} bootstrap resamples`,
    'variant              shadow       n   positives    AUC   95% CI            log loss  precision@k',
  ];
  for (const v of report.variants) {
    lines.push(
      `${v.variant.padEnd(20)} ${String(v.shadow).padEnd(6)} ${String(v.n).padStart(7)} ${String(v.positives).padStart(11)}  ` +
        `${v.auc.toFixed(3)}  [${v.aucCi95[0].toFixed(3)}, ${v.aucCi95[1].toFixed(3)}]  ${v.logLoss.toFixed(4).padStart(8)}  ` +
        `${v.precisionAtK.toFixed(3)} (k=${v.k})`,
    );
  }
  return lines.join('\n');
}
