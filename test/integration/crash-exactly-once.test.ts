/**
 * Nothing lost, nothing counted twice: 100k out-of-order events over 6 partitions, two worker processes,
 * one killed with SIGKILL mid-stream and restarted, a third joining later. The killed one runs two stream
 * threads (two group members in one process, both killed at once). The final window results must equal a
 * brute-force computation over the input exactly.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import type { Message } from 'kafkajs';
import {
  createTopic,
  deleteTopics,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';
import type { CrashTestEvent } from '../support/window-worker.js';
import { exited } from '../support/child-exit.js';
import { startWindowWorker } from '../support/window-worker-process.js';

const kafka = testKafka();
const name = uniqueName('crash');
const source = `${name}.in`;
const output = `${name}.out`;
const PARTITIONS = 6;
const EVENTS = 100_000;
const WINDOW_MS = 10_000;
const children: ChildProcess[] = [];

function startWorker(instance: string, threads = 1): ChildProcess {
  const child = startWindowWorker({
    topology: name,
    source,
    output,
    instance,
    threads,
    logLevel: process.env.CRASH_LOG_LEVEL ?? 'warn',
  });
  children.push(child);
  return child;
}

let lastCommitted = '';

/** Members of the topology's consumer group once it is stable (-1 while it rebalances). */
async function members(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([name]);
    const group = groups[0];
    if (group?.state !== 'Stable') return -1;
    return group.members.length;
  } finally {
    await admin.disconnect();
  }
}

async function committedTotal(): Promise<bigint> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: name, topics: [source] });
    const parts = offsets?.partitions ?? [];
    lastCommitted = parts.map((p) => `${p.partition}:${p.offset}`).join(' ');
    return parts.reduce((acc, p) => acc + (p.offset === '-1' ? 0n : BigInt(p.offset)), 0n);
  } finally {
    await admin.disconnect();
  }
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what} (committed ${lastCommitted})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test(
  'SIGKILL mid-stream, restart and scale-out: final windows equal the reference exactly',
  { timeout: 600_000 },
  async () => {
    await createTopic(kafka, source, PARTITIONS);
    const rand = lcg(42);
    const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 3_600_000;
    const events: CrashTestEvent[] = Array.from({ length: EVENTS }, (_, id) => ({
      id,
      key: `card-${Math.floor(rand() * 300)}`,
      // Jitter of up to 2.5 s stays inside the 3 s out-of-orderness, so no event is late by design.
      ts: t0 + id * 20 + Math.floor(rand() * 2500) - 1250,
      amount: 1 + Math.floor(rand() * 1000),
    }));
    const toMessage = (e: CrashTestEvent): Message => ({ key: e.key, value: JSON.stringify(e) });

    const w1 = startWorker('w1', 2);
    const w2 = startWorker('w2');
    await produce(kafka, source, events.slice(0, 40_000).map(toMessage));
    await waitFor('first commits', async () => (await committedTotal()) > 10_000n, 120_000);

    w1.kill('SIGKILL');
    await exited(w1);
    await produce(kafka, source, events.slice(40_000, 70_000).map(toMessage));
    // Each partition's transactional id fences whatever incarnation held it before.
    const w1b = startWorker('w1', 2);
    await waitFor('the restarted worker (2 threads) to join', async () => (await members()) === 3, 60_000);
    const w3 = startWorker('w3');
    await waitFor('the third worker to join', async () => (await members()) === 4, 60_000);
    // The rest flows while the group is three workers (four members) strong.
    await produce(kafka, source, events.slice(70_000).map(toMessage));

    // Close every window: one event far ahead per partition advances each partition's watermark.
    const tEnd = t0 + EVENTS * 20 + 3_600_000;
    await produce(
      kafka,
      source,
      Array.from({ length: PARTITIONS }, (_, p) => ({
        partition: p,
        key: `flush-${p}`,
        value: JSON.stringify({ id: -1 - p, key: `flush-${p}`, ts: tEnd, amount: 0 }),
      })),
    );
    await waitForCommittedEnd(kafka, name, source, 300_000);

    for (const w of [w2, w1b, w3]) w.kill('SIGTERM');
    const codes = await Promise.all([w2, w1b, w3].map(exited));
    assert.deepEqual(codes, [0, 0, 0], 'workers stop gracefully on SIGTERM');

    // Reference: a plain group-by over the whole input.
    const expected = new Map<string, { n: number; total: number }>();
    for (const e of events) {
      const start = Math.floor(e.ts / WINDOW_MS) * WINDOW_MS;
      const k = `${e.key}@${start}`;
      const agg = expected.get(k) ?? { n: 0, total: 0 };
      agg.n += 1;
      agg.total += e.amount;
      expected.set(k, agg);
    }

    const results = await readAll(kafka, output);
    const actual = new Map<string, { n: number; total: number }>();
    let duplicates = 0;
    for (const m of results) {
      const r = JSON.parse(String(m.value)) as {
        key: string;
        start: number;
        value: { n: number; total: number };
      };
      const k = `${r.key}@${r.start}`;
      const prev = actual.get(k);
      if (prev) {
        duplicates += 1;
        // At-least-once output: a re-emitted window after a crash must carry the very same value.
        assert.deepEqual(r.value, prev, `window ${k} was emitted twice with different values`);
      }
      actual.set(k, r.value);
    }
    assert.equal(actual.size, expected.size, 'same set of windows');
    for (const [k, v] of expected) assert.deepEqual(actual.get(k), v, `window ${k}`);
    const late = await readAll(kafka, `${name}.late`);
    assert.equal(late.length, 0, 'no event was late');
    console.log(`# windows=${expected.size} re-emitted=${duplicates}`);
  },
);

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await deleteTopics(kafka, [source, output, ...topologyTopics(name)]);
});
