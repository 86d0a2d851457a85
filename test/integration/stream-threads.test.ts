/**
 * One worker process on two stream threads: two members of the topology's group, each with its own
 * partitions; the process's probes answer for both, /metrics merges both (a `stream_thread` label apart),
 * SIGTERM stops both gracefully (exit 0, everything committed), and a thread that cannot start fails the
 * process with its reason (exit 1). The crash test (crash-exactly-once) kills such a process with SIGKILL.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { exited } from '../support/child-exit.js';
import { freePort } from '../support/free-port.js';
import {
  createTopic,
  deleteTopics,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
  withAdmin,
} from '../support/kafka.js';
import { runSluice } from '../support/sluice-cli.js';
import { until } from '../support/until.js';
import { startWindowWorker, type WindowWorkerOptions } from '../support/window-worker-process.js';

const kafka = testKafka();
const name = uniqueName('threads');
const source = `${name}.in`;
const output = `${name}.out`;
const children: ChildProcess[] = [];

function startThreadedWorker(o: Pick<WindowWorkerOptions, 'topology' | 'source' | 'output' | 'env'>): {
  child: ChildProcess;
  output: () => string;
} {
  const child = startWindowWorker({
    ...o,
    instance: 'threaded',
    threads: 2,
    logLevel: 'info',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return { child, output: () => text };
}

const sumOf = (metrics: string, metric: string, label: string): number =>
  [...metrics.matchAll(new RegExp(`^${metric}\\{[^}]*${label}[^}]*\\} (\\d+)`, 'gm'))]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0);

test(
  'two stream threads: two group members, merged metrics, probes for both, graceful stop',
  { timeout: 180_000 },
  async () => {
    await createTopic(kafka, source, 6);
    const port = await freePort();
    const { child } = startThreadedWorker({
      topology: name,
      source,
      output,
      env: { SLUICE_METRICS_PORT: String(port) },
    });
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
      return res ? { status: res.status, text: await res.text() } : { status: 0, text: '' };
    };
    await until('the process to be ready', async () => (await get('/readyz')).status === 200, {
      timeoutMs: 60_000,
    });
    assert.equal((await get('/healthz')).status, 200);

    const { groups } = await withAdmin(kafka, (admin) => admin.describeGroups([name]));
    const members = groups[0]?.members ?? [];
    assert.deepEqual(members.map((m) => m.clientId.replace(/^.*-(t\d)$/, '$1')).sort(), ['t0', 't1']);

    const t0 = 1_700_000_000_000;
    const events = Array.from({ length: 3000 }, (_, id) => ({
      id,
      key: `k${id % 40}`,
      ts: t0 + id * 50,
      amount: 1,
    }));
    await produce(
      kafka,
      source,
      events.map((e) => ({ key: e.key, value: JSON.stringify(e) })),
    );
    await waitForCommittedEnd(kafka, name, source, 60_000);

    const metrics = (await get('/metrics')).text;
    const threads = new Set([...metrics.matchAll(/stream_thread="(\d+)"/g)].map((m) => m[1]));
    assert.deepEqual([...threads].sort(), ['0', '1'], 'each thread has its own series');
    assert.equal(sumOf(metrics, 'sluice_records_in_total', `topology="${name}"`), events.length);
    for (const thread of ['0', '1']) {
      assert.ok(
        sumOf(metrics, 'sluice_records_in_total', `stream_thread="${thread}"`) > 0,
        `thread ${thread} processed records of its own partitions`,
      );
    }

    child.kill('SIGTERM');
    assert.equal(await exited(child), 0, 'both threads stop gracefully');
    const windows = (await readAll(kafka, output)).map((m) => JSON.parse(String(m.value)) as { key: string });
    assert.ok(windows.length > 0, 'windows closed before the stop were written');
  },
);

test('a stream thread that cannot start fails the process with its reason', { timeout: 60_000 }, async () => {
  const missing = `${name}-missing.in`;
  const { child, output: logs } = startThreadedWorker({
    topology: `${name}-missing`,
    source: missing,
    output: `${name}-missing.out`,
  });
  assert.equal(await exited(child), 1);
  assert.match(
    logs(),
    new RegExp(`source topic ${missing.replace('.', '\\.')} of topology .* does not exist`),
  );
});

test('a bad thread count is refused before anything starts, naming the fix', () => {
  const flag = runSluice(['run', 'drift-samples', '--threads', '0']);
  assert.equal(flag.status, 1, "commander's exit code for a bad option value");
  assert.match(flag.stderr, /--threads.*must be a positive integer/);
  const env = runSluice(['run', 'drift-samples'], { env: { SLUICE_STREAM_THREADS: 'two' } });
  assert.equal(env.status, 2);
  assert.match(env.stderr, /SLUICE_STREAM_THREADS=two is not a thread count; e\.g\. SLUICE_STREAM_THREADS=2/);
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await deleteTopics(kafka, [source, output, ...topologyTopics(name)]);
});
