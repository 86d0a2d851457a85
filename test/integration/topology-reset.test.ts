/**
 * `sluice reset`: a windowed topology run to the end of its source is reset and run again. It must emit
 * every window again, once, with the same totals: a reset that left the state (the changelog, whose
 * position wins) would resume at the end and emit nothing; one that left the group's offsets would too;
 * one that kept the windows would count every record twice. A reset while a worker runs is refused, the
 * plan alone changes nothing, and the reset is in the audit log. A date-time resolves to the first record
 * at or after it, by the source's own timestamps.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { Message } from 'kafkajs';
import { changelogTopic } from '../../connectors/kafka/co-partitioned.js';
import { verifyAuditLog } from '../../services/common/index.js';
import { planReset, ResetRefused, type ResetTarget } from '../../topologies/runtime/reset.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { runToCommittedEnd } from '../support/run-to-end.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  groupOffsets,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
  withAdmin,
} from '../support/kafka.js';
import {
  assertWindowsEqualReference,
  countSumTopology,
  WINDOW_MS,
  type KeyedEvent,
} from '../support/window-reference.js';
import { runSluice, tempAuditLog } from '../support/sluice-cli.js';

const kafka = testKafka();
const name = uniqueName('reset');
const source = `${name}.in`;
const output = `${name}.out`;
const auditLog = tempAuditLog('sluice-reset');
after(() => deleteTopics(kafka, [source, output, ...topologyTopics(name)]));

const sluice = (...args: string[]) =>
  runSluice(args, { env: { SLUICE_AUDIT_LOG: auditLog, SLUICE_ACTOR: 'reset-test' } });

/**
 * The emitted windows as sorted lines, so two runs compare as multisets: those after the first `skip`
 * records of each output partition.
 */
async function windowLines(skip = new Map<number, number>()): Promise<string[]> {
  return (await readAll(kafka, output))
    .filter((m) => Number(m.offset) >= (skip.get(m.partition) ?? 0))
    .map((m) => {
      const r = JSON.parse(String(m.value)) as { key: string; start: number; value: unknown };
      return `${r.key}@${r.start} ${JSON.stringify(r.value)}`;
    })
    .sort();
}

test(
  'a reset topology reprocesses its source: every window again, once, with the same totals',
  { timeout: 240_000 },
  async () => {
    await createTopic(kafka, source, 2);
    const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 3_600_000;
    const events: KeyedEvent[] = Array.from({ length: 2000 }, (_, id) => ({
      id,
      key: `card-${id % 11}`,
      ts: t0 + id * 40,
      amount: 1 + (id % 7),
    }));
    const toMessage = (e: KeyedEvent, partition: number): Message => ({
      partition,
      key: e.key,
      value: JSON.stringify(e),
    });
    // A record far ahead in each partition closes every window before it (watermarks are per partition).
    const flush = (partition: number) =>
      toMessage({ id: -1, key: 'flush', ts: t0 + 600_000, amount: 0 }, partition);
    // Each key in one partition, as keyBy on a keyed source has it.
    const partitionOf = (e: KeyedEvent) => (e.id % 11) % 2;
    await produce(kafka, source, [...events.map((e) => toMessage(e, partitionOf(e))), flush(0), flush(1)]);
    const ends = [0, 1].map((p) => String(events.filter((e) => partitionOf(e) === p).length + 1));
    const topology = () => countSumTopology(name);

    assert.equal(await runToCommittedEnd(kafka, topology(), 'first'), undefined);
    await assertWindowsEqualReference(kafka, output, events);
    const first = await windowLines();
    const firstRun = new Map<number, number>();
    for (const m of await readAll(kafka, output)) {
      firstRun.set(m.partition, Math.max(firstRun.get(m.partition) ?? 0, Number(m.offset) + 1));
    }
    assert.ok(first.length > 50, `the first run emitted ${first.length} windows`);

    // Refused while a worker runs: its next checkpoint would undo the reset.
    const worker = new TopologyWorker(topology(), { instanceId: 'running', kafka, endpoints });
    await worker.start();
    try {
      await withAdmin(kafka, async (admin) => {
        await assert.rejects(
          planReset(admin, { topology: name, sourceTopic: source, to: { kind: 'earliest' } }),
          (err: unknown) =>
            err instanceof ResetRefused &&
            /still has 1 running worker\(s\).*stop them first/.test(err.message),
        );
      });
    } finally {
      await worker.stop();
    }

    // Without --yes: the plan, and nothing changed.
    const dry = sluice('reset', name, '--source', source);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`partition 0: ${ends[0]} -> 0\n  partition 1: ${ends[1]} -> 0`));
    assert.match(dry.stdout, new RegExp(`state: delete ${changelogTopic(name)}`));
    assert.match(dry.stdout, /dry run: nothing changed; add --yes to reset/);
    assert.deepEqual(
      await groupOffsets(kafka, name, source),
      new Map([
        [0, ends[0]],
        [1, ends[1]],
      ]),
    );

    const reset = sluice('reset', name, '--source', source, '--yes');
    assert.equal(reset.status, 0, reset.stderr);
    assert.deepEqual(
      await groupOffsets(kafka, name, source),
      new Map([
        [0, '0'],
        [1, '0'],
      ]),
    );
    const topics = await withAdmin(kafka, (admin) => admin.listTopics());
    assert.ok(!topics.includes(changelogTopic(name)), 'the state is deleted');

    assert.equal(await runToCommittedEnd(kafka, topology(), 'second'), undefined);
    assert.deepEqual(
      await windowLines(firstRun),
      first,
      'the second run emitted the same windows with the same totals',
    );

    const audit = readFileSync(auditLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      audit.map((r) => [r.action, r.target, r.actor, r.details.to]),
      [['topology.reset', `topology:${name}`, 'reset-test', 'earliest']],
    );
    assert.equal((await verifyAuditLog(auditLog)).ok, true);
  },
);

test('reset refuses a bad --to and a source that does not exist, naming the fix', async () => {
  const badPoint = sluice('reset', name, '--source', source, '--to', 'yesterday');
  assert.equal(badPoint.status, 1);
  assert.match(badPoint.stderr, /must be earliest, latest or an ISO-8601 date-time with a zone/);
  const localTime = sluice('reset', name, '--source', source, '--to', '2026-11-24T08:00:00');
  assert.match(localTime.stderr, /with a zone/);

  const missing = sluice('reset', name, '--source', `${name}.nope`);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /source topic .*\.nope of topology .* does not exist; name it with --source/);

  const unknown = sluice('reset', 'not-a-topology');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /not a shipped topology: name its source topic with --source/);
});

test('--to latest and --to a date-time plan from the source log itself', async () => {
  const topic = uniqueName('reset-points');
  await createTopic(kafka, topic, 1);
  try {
    await produce(
      kafka,
      topic,
      Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: `a${i}` })),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const between = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await produce(
      kafka,
      topic,
      Array.from({ length: 7 }, (_, i) => ({ partition: 0, value: `b${i}` })),
    );
    const planned = (to: ResetTarget) =>
      withAdmin(kafka, (admin) => planReset(admin, { topology: `${name}-points`, sourceTopic: topic, to }));
    const offsetOf = async (to: ResetTarget) => (await planned(to)).partitions.map((p) => p.to);
    assert.deepEqual(await offsetOf({ kind: 'datetime', at: between }), ['5'], 'the first record after it');
    assert.deepEqual(
      await offsetOf({ kind: 'datetime', at: Date.now() + 60_000 }),
      ['12'],
      'none after: the end',
    );
    assert.deepEqual(await offsetOf({ kind: 'latest' }), ['12']);
    const fresh = await planned({ kind: 'earliest' });
    assert.deepEqual(fresh.partitions, [{ partition: 0, from: null, to: '0' }], 'a group that never ran');
    assert.equal(fresh.changelog, null, 'and has no state yet');
  } finally {
    await deleteTopics(kafka, [topic]);
  }
});
