/** The `sluice` command line as an operator runs it: a child process of the repository's own entry point. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../deploy/stack/paths.js';

export const SLUICE_BIN = path.join(REPO_ROOT, 'deploy/bin/sluice.js');

/** Runs `sluice ...args` to its end; `env` adds to (or, with undefined, removes from) this process's. */
export function runSluice(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [SLUICE_BIN, ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, ...options.env },
  });
}

/** A path for an audit log of the test's own, so audited commands leave the repository's alone. */
export const tempAuditLog = (prefix: string): string =>
  path.join(mkdtempSync(path.join(os.tmpdir(), `${prefix}-`)), 'audit.log');
