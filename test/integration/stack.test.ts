/**
 * Runs the real `sluice stack` CLI as a child process against the real local services. When the schema
 * registry's entry point is not written yet, the registry is left out (and the test says so).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPO_ROOT, stackPaths } from '../../deploy/stack/paths.js';
import { REGISTRY_ENTRY } from '../../deploy/stack/registry.js';
import { freePort } from '../support/free-port.js';

const CLI = path.join(REPO_ROOT, 'deploy', 'bin', 'sluice.js');
const registryWritten = fs.existsSync(path.join(REPO_ROOT, REGISTRY_ENTRY));
const selection = registryWritten ? [] : ['--skip', 'registry'];
const expected = ['kafka', 'redis', 'clickhouse', ...(registryWritten ? ['registry'] : [])];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sluice(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: REPO_ROOT, env, timeout: 240_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Each pid file's content and mtime: a second `up` that starts nothing must leave them all alone. */
function pidFiles(): Record<string, string> {
  const dir = stackPaths().pidsDir;
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(
    fs.readdirSync(dir).map((f) => {
      const file = path.join(dir, f);
      return [f, `${fs.readFileSync(file, 'utf8').trim()}@${fs.statSync(file).mtimeMs}`];
    }),
  );
}

const explain = (run: Run) => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

test(
  'stack up twice: the second run reuses everything and starts nothing',
  { timeout: 300_000 },
  async (t) => {
    if (!registryWritten) t.diagnostic(`${REGISTRY_ENTRY} is missing: running with --skip registry`);
    const first = await sluice(['stack', 'up', ...selection]);
    assert.equal(first.code, 0, explain(first));
    const before = pidFiles();
    for (const [file, entry] of Object.entries(before)) {
      const pid = Number(entry.split('@')[0]);
      assert.doesNotThrow(() => process.kill(pid, 0), `${file} names pid ${pid}, which is not running`);
    }

    const second = await sluice(['stack', 'up', ...selection]);
    assert.equal(second.code, 0, explain(second));
    assert.doesNotMatch(second.stdout, /starting/, `second up started something:\n${second.stdout}`);
    for (const name of expected) {
      assert.match(second.stdout, new RegExp(`^${name}\\s+reused `, 'm'), `no "reused" line for ${name}`);
    }
    assert.deepEqual(pidFiles(), before, 'pid files changed although nothing should have been started');
  },
);

test('stack status exits 0 and reports every service healthy', { timeout: 60_000 }, async () => {
  const run = await sluice(['stack', 'status', '--json', ...selection]);
  assert.equal(run.code, 0, explain(run));
  const rows = JSON.parse(run.stdout) as { name: string; healthy: boolean; origin: string }[];
  assert.deepEqual(
    rows.map((r) => r.name),
    expected,
  );
  for (const row of rows)
    assert.equal(row.healthy, true, `${row.name} is not healthy: ${JSON.stringify(row)}`);
});

test(
  'stack status with REDIS_URL at a closed port exits non-zero and names redis',
  { timeout: 60_000 },
  async () => {
    const port = await freePort();
    const run = await sluice(['stack', 'status', ...selection], {
      ...process.env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    assert.notEqual(run.code, 0, explain(run));
    const lines = run.stdout.split('\n');
    const redis = lines.find((l) => l.startsWith('redis '));
    assert.ok(redis, explain(run));
    assert.match(redis, new RegExp(`127\\.0\\.0\\.1:${port}.*UNHEALTHY.*external \\(REDIS_URL\\)`));
    const othersUnhealthy = lines.filter((l) => l.includes('UNHEALTHY') && !l.startsWith('redis '));
    assert.deepEqual(othersUnhealthy, [], 'only redis should be unhealthy');
  },
);

test(
  'stack up refuses a port held by something that is not the expected service',
  { timeout: 60_000 },
  async () => {
    // An HTTP server that is not ClickHouse, where the stack would start its ClickHouse.
    const impostor = http.createServer((_req, res) => res.end('hello, I am not a database\n'));
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    const { port } = impostor.address() as AddressInfo;
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-stack-test-'));
    try {
      const run = await sluice(['stack', 'up', '--only', 'clickhouse'], {
        ...process.env,
        SLUICE_STATE_DIR: stateDir,
        SLUICE_CLICKHOUSE_HTTP_URL: `http://127.0.0.1:${port}`,
      });
      assert.equal(run.code, 1, explain(run));
      const failures = run.stdout.split('\n').filter((l) => l.includes('FAILED'));
      assert.equal(failures.length, 1, explain(run));
      assert.match(
        failures[0]!,
        new RegExp(`127\\.0\\.0\\.1:${port} is taken by something that is not ClickHouse`),
      );
      assert.equal(
        fs.existsSync(path.join(stateDir, 'pids', 'clickhouse.pid')),
        false,
        'it must not start anything',
      );
    } finally {
      impostor.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  },
);

test('every stack command answers --help', { timeout: 60_000 }, async () => {
  for (const args of [
    ['--help'],
    ['stack', '--help'],
    ['stack', 'up', '--help'],
    ['stack', 'status', '--help'],
    ['stack', 'down', '--help'],
  ]) {
    const run = await sluice(args);
    assert.equal(run.code, 0, explain(run));
    assert.match(run.stdout, /^Usage: sluice/m);
  }
});
