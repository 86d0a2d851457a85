/** `sluice stack up | down | status`: the local Kafka, Redis, ClickHouse and schema registry. */
import { Command, InvalidArgumentError } from 'commander';
import { SERVICE_NAMES } from '../../stack/service.js';
import type { ServiceName } from '../../stack/service.js';
import { formatStatus, stackDown, stackStatus, stackUp } from '../../stack/stack.js';

function serviceList(value: string): ServiceName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(SERVICE_NAMES as readonly string[]).includes(n)) {
      throw new InvalidArgumentError(`unknown service "${n}"; choose from ${SERVICE_NAMES.join(', ')}`);
    }
  }
  return names as ServiceName[];
}

interface Selection {
  only?: ServiceName[];
  skip?: ServiceName[];
}

function withSelection(cmd: Command): Command {
  return cmd
    .option('--only <services>', `comma-separated subset of ${SERVICE_NAMES.join(',')}`, serviceList)
    .option('--skip <services>', 'comma-separated services to leave out', serviceList);
}

export function registerStackCommands(program: Command): void {
  const stack = program
    .command('stack')
    .description('run the local services: Kafka, Redis, ClickHouse (HTTP) and the schema registry')
    .addHelpText(
      'after',
      `
State (data, logs, pid files) lives in .state/ of the repo; SLUICE_STATE_DIR overrides it.
A service named by KAFKA_BROKERS, REDIS_URL, CLICKHOUSE_URL or SCHEMA_REGISTRY_URL is used, never started.`,
    );

  withSelection(
    stack
      .command('up')
      .description('start what is not running yet and wait until everything answers (idempotent)')
      .addHelpText('after', '\nExit code 0 only when every selected service is healthy.'),
  ).action(async (opts: Selection) => {
    process.exitCode = await stackUp(opts);
  });

  withSelection(
    stack.command('status').description('show each service: address, version, health, and who started it'),
  )
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: Selection & { json?: boolean }) => {
      const rows = await stackStatus(opts);
      if (opts.json) console.log(JSON.stringify(rows, null, 2));
      else for (const line of formatStatus(rows)) console.log(line);
      process.exitCode = rows.every((r) => r.healthy) ? 0 : 1;
    });

  withSelection(
    stack
      .command('down')
      .description('stop the services this stack started (pid files); never touches others'),
  )
    .option(
      '--grace <seconds>',
      'wait this long after SIGTERM before SIGKILL',
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds');
        return n;
      },
      20,
    )
    .action(async (opts: Selection & { grace: number }) => {
      process.exitCode = await stackDown({ ...opts, graceMs: opts.grace * 1000 });
    });
}
