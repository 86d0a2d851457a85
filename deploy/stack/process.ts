/**
 * Detached child processes tracked by pid files. A pid file means "we started this"; `down` only ever stops
 * processes named by one, and only while the pid still runs the expected program (pids get reused).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Managed {
  /** Service name; names the pid file `<pidsDir>/<name>.pid`. */
  readonly name: string;
  readonly pidsDir: string;
  /** A substring of the process command line that proves the pid is still ours (e.g. `kafka.Kafka`). */
  readonly marker: string;
}

export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
}

function pidFile(m: Managed): string {
  return path.join(m.pidsDir, `${m.name}.pid`);
}

function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but owned by another user (e.g. ClickHouse run as its own user).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers kill(0); it is not a running service.
  const stat = readProcStat(pid);
  return stat === undefined || !/^\d+ \(.*\) Z/.test(stat);
}

function readProcStat(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The pid from our pid file if that process still runs our program; removes a stale pid file. */
export function ownedPid(m: Managed): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pidFile(m), 'utf8').trim();
  } catch {
    return undefined;
  }
  const pid = Number(text);
  const cmd = Number.isInteger(pid) && pid > 0 && isRunning(pid) ? commandLine(pid) : undefined;
  // Without /proc (not Linux) we cannot check the marker; trust a live pid.
  const ours =
    cmd === undefined ? Number.isInteger(pid) && pid > 0 && isRunning(pid) : cmd.includes(m.marker);
  if (!ours) {
    fs.rmSync(pidFile(m), { force: true });
    return undefined;
  }
  return pid;
}

/** Starts the process in its own session (survives this CLI), output appended to its log file. */
export function spawnDetached(m: Managed, spec: SpawnSpec): number {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  fs.mkdirSync(m.pidsDir, { recursive: true });
  const log = fs.openSync(spec.logFile, 'a');
  try {
    fs.writeSync(log, `\n--- ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    // Reap it if it dies while we are still running, so a crash shows up as "not running" right away.
    child.on('error', () => undefined);
    child.unref();
    fs.writeFileSync(pidFile(m), `${child.pid}\n`);
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM the process group, wait up to graceMs, then SIGKILL. Returns how it ended. */
export async function stopOwned(m: Managed, graceMs: number): Promise<'not running' | 'stopped' | 'killed'> {
  const pid = ownedPid(m);
  if (pid === undefined) return 'not running';
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig); // the whole group: wrappers (e.g. tsx) and their children
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  let result: 'stopped' | 'killed' = 'stopped';
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      signal('SIGKILL');
      result = 'killed';
      await sleep(200);
      if (Date.now() > deadline + 5000) break;
      continue;
    }
    await sleep(200);
  }
  fs.rmSync(pidFile(m), { force: true });
  return result;
}

export function logTail(file: string, lines = 5): string {
  try {
    const all = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
