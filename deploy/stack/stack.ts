/**
 * `sluice stack up | down | status`: bring the local services up (reusing whatever already answers), report
 * on them, and stop only what we started.
 */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { clickhouseService } from './clickhouse.js';
import { clusterNodeServices } from './clickhouse-cluster.js';
import { kafkaService } from './kafka.js';
import { withStackLock } from './lock.js';
import { displayPath, stackPaths } from './paths.js';
import { errorText, hostPortOfBroker, portOpen, sleep } from './probe.js';
import { isRunning, logTail, ownedPid, stopOwned } from './process.js';
import { redisService } from './redis.js';
import { registryService } from './registry.js';
import { zookeeperService } from './zookeeper.js';
import { ALL_SERVICE_NAMES, CLICKHOUSE_CLUSTER_SERVICE_NAMES, SERVICE_NAMES } from './service.js';
import type { Health, ServiceContext, ServiceName, StackService } from './service.js';

export interface StackOptions {
  /** Only these services (default: all). */
  readonly only?: readonly ServiceName[];
  readonly skip?: readonly ServiceName[];
  /** Also the local ClickHouse cluster (ZooKeeper and four nodes), which is left out by default. */
  readonly withClickHouseCluster?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Where human output goes; one line per call. */
  readonly print?: (line: string) => void;
}

type Say = (message: string) => void;

function selectServices(
  options: StackOptions,
  byDefault: readonly ServiceName[] = SERVICE_NAMES,
): { services: StackService[]; ctx: ServiceContext } {
  const env = options.env ?? process.env;
  const ctx: ServiceContext = { paths: stackPaths(env), env };
  const endpoints = loadEndpoints(env); // throws ConfigError naming the fix
  const services = [
    kafkaService(endpoints, ctx),
    redisService(endpoints, ctx),
    clickhouseService(endpoints, ctx),
    registryService(endpoints, ctx),
    zookeeperService(ctx),
    ...clusterNodeServices(ctx),
  ];
  const all = new Map(services.map((svc) => [svc.name, svc]));
  const universe = options.only?.length
    ? ALL_SERVICE_NAMES
    : options.withClickHouseCluster
      ? [...new Set([...byDefault, ...CLICKHOUSE_CLUSTER_SERVICE_NAMES])]
      : byDefault;
  const wanted = universe.filter(
    (n) => (!options.only?.length || options.only.includes(n)) && !options.skip?.includes(n),
  );
  return { services: wanted.map((n) => all.get(n)!), ctx };
}

const sayFor =
  (print: (line: string) => void, name: string): Say =>
  (m) =>
    print(`${name.padEnd(15)} ${m}`);
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const versionNote = (h: Health, svc: StackService, ours: boolean) => {
  const v = h.version ?? (ours ? svc.ownVersion : undefined);
  return [v && `${svc.product.replace(/^the /, '')} ${v}`, h.detail].filter(Boolean).join(', ');
};

/** "(a; b)" without empty parts. */
const paren = (...parts: (string | undefined)[]) => {
  const text = parts.filter(Boolean).join('; ');
  return text ? ` (${text})` : '';
};

type UpResult = 'reused' | 'started' | 'failed' | 'skipped';

async function waitReady(svc: StackService, pid: number, startedAt: number, say: Say): Promise<UpResult> {
  const deadline = startedAt + svc.readyTimeoutMs;
  let nextNote = Date.now() + 15_000; // CI logs have no spinner: a line every 15 s shows it is alive
  for (;;) {
    const health = await svc.probe();
    if (health.ok) {
      say(`ready in ${seconds(Date.now() - startedAt)} s${paren(versionNote(health, svc, true))}`);
      return 'started';
    }
    if (!isRunning(pid)) {
      ownedPid(svc.managed); // clears the stale pid file
      say(
        `FAILED: exited during startup; last log line: ${logTail(svc.logFile, 1)} (see ${displayPath(svc.logFile)})`,
      );
      return 'failed';
    }
    if (Date.now() > deadline) {
      await stopOwned(svc.managed, 10_000);
      say(
        `FAILED: not ready after ${seconds(svc.readyTimeoutMs)} s (${health.detail}); stopped it, see ${displayPath(svc.logFile)}`,
      );
      return 'failed';
    }
    if (Date.now() > nextNote) {
      say(`still waiting after ${seconds(Date.now() - startedAt)} s (${health.detail})`);
      nextNote = Date.now() + 15_000;
    }
    await sleep(1000);
  }
}

async function bringUp(svc: StackService, say: Say): Promise<UpResult> {
  const t0 = Date.now();
  if (svc.externalReason) {
    const health = await svc.probe();
    if (health.ok) {
      say(
        `reused ${svc.address}${paren(`external: ${svc.externalReason}`, versionNote(health, svc, false))}`,
      );
      return 'reused';
    }
    say(
      `FAILED: ${svc.address} (${svc.externalReason}) is not healthy: ${health.detail}; start it or unset ${svc.envVar}`,
    );
    return 'failed';
  }
  const pid = ownedPid(svc.managed);
  let health = await svc.probe();
  if (health.ok) {
    const origin = pid ? `started by sluice, pid ${pid}` : 'already running, not started by sluice';
    say(`reused ${svc.address}${paren(origin, versionNote(health, svc, pid !== undefined))}`);
    return 'reused';
  }
  if (pid !== undefined) {
    say(`pid ${pid} (started by sluice) is not answering yet: ${health.detail}; waiting...`);
    return waitReady(svc, pid, t0, say);
  }
  if (await portOpen(hostPortOfBroker(svc.address))) {
    // Maybe the real thing, still starting outside our control: give it a few seconds before blaming it.
    for (let i = 0; i < 3 && !health.ok; i++) {
      await sleep(1500);
      health = await svc.probe();
    }
    if (health.ok) {
      say(
        `reused ${svc.address}${paren('already running, not started by sluice', versionNote(health, svc, false))}`,
      );
      return 'reused';
    }
    say(
      `FAILED: ${svc.address} is taken by something that is not ${svc.product} (${health.detail}); free the port or set ${svc.envVar}`,
    );
    return 'failed';
  }
  let started: number;
  try {
    started = await svc.start(say);
  } catch (err) {
    say(`FAILED: ${errorText(err)}`);
    return 'failed';
  }
  say(`starting (pid ${started}, log ${displayPath(svc.logFile)})...`);
  return waitReady(svc, started, t0, say);
}

/** Returns the process exit code: 0 when every selected service is healthy. */
export async function stackUp(options: StackOptions = {}): Promise<number> {
  const print = options.print ?? console.log;
  const { services, ctx } = selectServices(options);
  return withStackLock(ctx.paths.stateDir, sayFor(print, 'stack'), async () => {
    const t0 = Date.now();
    const results = new Map<ServiceName, UpResult>();
    // Independent services start in parallel; one that needs another (the registry keeps its schemas in
    // Kafka, the cluster nodes keep their metadata in ZooKeeper) waits for it, and is skipped if it failed.
    const selected = new Set(services.map((s) => s.name));
    const outcomes = new Map<ServiceName, Promise<UpResult>>();
    const outcomeOf = (svc: StackService): Promise<UpResult> => {
      let outcome = outcomes.get(svc.name);
      if (!outcome) {
        outcome = (async () => {
          const dependency = svc.after && selected.has(svc.after) ? svc.after : undefined;
          if (dependency) {
            const before = await outcomeOf(services.find((s) => s.name === dependency)!);
            if ((before === 'failed' || before === 'skipped') && !svc.externalReason) {
              sayFor(print, svc.name)(`skipped: it needs ${dependency}, which failed above`);
              return 'skipped';
            }
          }
          return bringUp(svc, sayFor(print, svc.name));
        })();
        outcomes.set(svc.name, outcome);
      }
      return outcome;
    };
    await Promise.all(services.map(async (svc) => results.set(svc.name, await outcomeOf(svc))));
    const count = (r: UpResult) => [...results.values()].filter((x) => x === r).length;
    const bad = count('failed') + count('skipped');
    print(
      `stack ${bad ? 'NOT ready' : 'ready'} in ${seconds(Date.now() - t0)} s: ${count('started')} started, ${count('reused')} reused, ${count('failed')} failed${count('skipped') ? `, ${count('skipped')} skipped` : ''} (state ${displayPath(ctx.paths.stateDir)})`,
    );
    return bad ? 1 : 0;
  });
}

export interface ServiceStatus {
  readonly name: ServiceName;
  readonly address: string;
  readonly version: string | undefined;
  readonly healthy: boolean;
  readonly detail: string | undefined;
  readonly origin: string;
  readonly pid: number | undefined;
}

export async function stackStatus(options: Omit<StackOptions, 'print'> = {}): Promise<ServiceStatus[]> {
  const { services } = selectServices(options);
  return Promise.all(
    services.map(async (svc) => {
      const pid = ownedPid(svc.managed);
      const health = await svc.probe();
      const origin = svc.externalReason
        ? `external (${svc.externalReason})`
        : pid !== undefined
          ? `started by sluice (pid ${pid})`
          : health.ok
            ? 'external (already running)'
            : 'not running';
      return {
        name: svc.name,
        address: svc.address,
        version: health.version ?? (pid !== undefined && !svc.externalReason ? svc.ownVersion : undefined),
        healthy: health.ok,
        detail: health.detail,
        origin,
        pid: svc.externalReason ? undefined : pid,
      };
    }),
  );
}

export function formatStatus(rows: readonly ServiceStatus[]): string[] {
  const table = [
    ['SERVICE', 'ADDRESS', 'VERSION', 'HEALTH', 'ORIGIN'],
    ...rows.map((r) => [
      r.name,
      r.address,
      r.version ?? '-',
      r.healthy ? `healthy${r.detail ? ` (${r.detail})` : ''}` : `UNHEALTHY: ${r.detail ?? 'no answer'}`,
      r.origin,
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table.map((row) =>
    row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join(''),
  );
}

/**
 * Stops what we started (pid files), dependents first (the registry before Kafka, the cluster nodes before
 * ZooKeeper); by default every service, the cluster included. Returns the exit code.
 */
export async function stackDown(options: StackOptions & { graceMs?: number } = {}): Promise<number> {
  const print = options.print ?? console.log;
  const { services, ctx } = selectServices(options, ALL_SERVICE_NAMES);
  return withStackLock(ctx.paths.stateDir, sayFor(print, 'stack'), async () => {
    let failures = 0;
    for (const svc of [...services].reverse()) {
      const say = sayFor(print, svc.name);
      const pid = ownedPid(svc.managed);
      if (pid === undefined) {
        say('nothing to stop (not started by sluice)');
        continue;
      }
      const t0 = Date.now();
      try {
        const how = await stopOwned(svc.managed, options.graceMs ?? 20_000);
        say(
          `${how === 'killed' ? 'killed (no exit after SIGTERM)' : 'stopped'} pid ${pid} in ${seconds(Date.now() - t0)} s`,
        );
      } catch (err) {
        failures++;
        say(`FAILED to stop pid ${pid}: ${errorText(err)}`);
      }
    }
    return failures ? 1 : 0;
  });
}
