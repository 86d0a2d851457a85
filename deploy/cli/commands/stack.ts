/** `sluice stack up | down | status`: the local Kafka, Redis, ClickHouse and schema registry. */
import { Command, InvalidArgumentError } from 'commander';
import { ALL_SERVICE_NAMES, SERVICE_NAMES } from '../../stack/service.js';
import type { ServiceName } from '../../stack/service.js';
import { formatStatus, stackDown, stackStatus, stackUp } from '../../stack/stack.js';

function serviceList(value: string): ServiceName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(ALL_SERVICE_NAMES as readonly string[]).includes(n)) {
      throw new InvalidArgumentError(`unknown service "${n}"; choose from ${ALL_SERVICE_NAMES.join(', ')}`);
    }
  }
  return names as ServiceName[];
}

interface Selection {
  only?: ServiceName[];
  skip?: ServiceName[];
  withClickhouseCluster?: boolean;
}

const selectionOf = (opts: Selection) => ({
  only: opts.only,
  skip: opts.skip,
  withClickHouseCluster: opts.withClickhouseCluster,
});

function withSelection(cmd: Command): Command {
  return cmd
    .option(
      '--only <services>',
      `comma-separated services, default ${SERVICE_NAMES.join(',')}; any of ${ALL_SERVICE_NAMES.join(',')}`,
      serviceList,
    )
    .option('--skip <services>', 'comma-separated services to leave out', serviceList)
    .option(
      '--with-clickhouse-cluster',
      'also the local ClickHouse cluster "sluice": ZooKeeper on 2181 and 2 shards x 2 replicas on HTTP 8131-8134',
    );
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
    process.exitCode = await stackUp(selectionOf(opts));
  });

  withSelection(
    stack.command('status').description('show each service: address, version, health, and who started it'),
  )
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: Selection & { json?: boolean }) => {
      const rows = await stackStatus(selectionOf(opts));
      if (opts.json) console.log(JSON.stringify(rows, null, 2));
      else for (const line of formatStatus(rows)) console.log(line);
      process.exitCode = rows.every((r) => r.healthy) ? 0 : 1;
    });

  withSelection(
    stack
      .command('down')
      .description(
        'stop the services this stack started (pid files), the ClickHouse cluster included; never touches others',
      ),
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
      process.exitCode = await stackDown({ ...selectionOf(opts), graceMs: opts.grace * 1000 });
    });
}
