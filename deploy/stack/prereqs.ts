/** Fail-fast checks for what starting a service needs: programs on PATH, free disk, Debian packages. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { StackError } from './service.js';

export function onPath(program: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, program))
    .find(isExecutable);
}

export function requireProgram(program: string, fix: string): string {
  const found = onPath(program);
  if (!found) throw new StackError(`${program} not found on PATH; ${fix}`);
  return found;
}

const MIN_FREE_BYTES = 1024 ** 3;

/** Throws when the filesystem holding `dir` (or its nearest existing parent) has < 1 GiB free. */
export function requireDiskSpace(dir: string): void {
  let probe = path.resolve(dir);
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  const stats = fs.statfsSync(probe);
  const free = stats.bavail * stats.bsize;
  if (free < MIN_FREE_BYTES) {
    const mib = Math.floor(free / 1024 ** 2);
    throw new StackError(
      `only ${mib} MiB free under ${probe} (need 1 GiB); free some disk or set SLUICE_STATE_DIR / XDG_CACHE_HOME elsewhere`,
    );
  }
}

const isRoot = () => process.getuid?.() === 0;

/** On PATH, or in the sbin dirs a non-root PATH often lacks (Debian puts clickhouse-server there). */
export function findProgram(program: string): string | undefined {
  return (
    onPath(program) ?? ['/usr/sbin', '/usr/bin', '/sbin'].map((d) => path.join(d, program)).find(isExecutable)
  );
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure a Debian package's program exists: installs it with apt-get when we are root, otherwise fails
 * with the exact command to run.
 */
export function ensureDebianProgram(program: string, pkg: string, progress: (m: string) => void): string {
  const found = findProgram(program);
  if (found) return found;
  const command = `apt-get update && apt-get install -y ${pkg}`;
  if (!isRoot()) throw new StackError(`${program} is not installed; run: sudo sh -c '${command}'`);
  progress(`installing ${pkg} (${command})...`);
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', pkg], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  let result = install();
  if (result.status !== 0) {
    // A fresh machine has no package lists yet.
    spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
    result = install();
  }
  const installed = findProgram(program);
  if (result.status !== 0 || !installed) {
    const why = result.stderr?.toString().trim().split('\n').pop() || 'unknown error';
    throw new StackError(`could not install ${pkg} (${why}); run: ${command}`);
  }
  return installed;
}
