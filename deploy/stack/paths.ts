/**
 * Where the local stack keeps its files. The repo's `.state/` by default (SLUICE_STATE_DIR overrides), resolved
 * from the repo root rather than the cwd so `sluice stack` behaves the same from any directory.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Static files committed with the stack (pom.xml, ClickHouse config). */
export const STACK_ASSETS = path.join(REPO_ROOT, 'deploy', 'stack');

export interface StackPaths {
  readonly stateDir: string;
  readonly logsDir: string;
  readonly pidsDir: string;
  readonly cacheDir: string;
}

export function stackPaths(env: NodeJS.ProcessEnv = process.env): StackPaths {
  const stateDir = env.SLUICE_STATE_DIR ? path.resolve(env.SLUICE_STATE_DIR) : path.join(REPO_ROOT, '.state');
  const cacheHome = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return {
    stateDir,
    logsDir: path.join(stateDir, 'logs'),
    pidsDir: path.join(stateDir, 'pids'),
    cacheDir: path.join(cacheHome, 'sluice'),
  };
}

/** Shows a path relative to the cwd when that is shorter, so log lines stay readable. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && rel.length < p.length ? rel : p;
}
