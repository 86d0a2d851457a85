/**
 * The scoring topology on two stream threads of one process: each thread opens its own model sessions,
 * features client and lifecycle listener, so a promotion must reach both. After the promotion, every
 * partition (two per thread) serves the new version, and every event is scored once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rootLogger } from '../../connectors/kafka/client.js';
import { StreamThreads } from '../../topologies/runtime/stream-threads.js';
import { createTopic, produce, readAll, testKafka, withAdmin } from '../support/kafka.js';
import {
  cleanup,
  createFixture,
  makeTxns,
  registerModel,
  saveExperiment,
  txnMessages,
  waitForCommitted,
  writeOnlineFeatures,
  type Fixture,
} from '../support/scoring-fixture.js';
import { scoringThreadRef } from '../support/scoring-thread-topology.js';
import { until } from '../support/until.js';

const kafka = testKafka();
const CARDS = 2000;
const PARTITIONS = 4;
let fixture: Fixture | undefined;

interface Logged {
  eventId: string;
  modelVersion: string;
  sourcePartition: number;
  shadow: boolean;
}

const predictions = async (f: Fixture) =>
  (await readAll(kafka, f.topics.predictions))
    .map((m) => JSON.parse(String(m.value)) as Logged)
    .filter((p) => !p.shadow);

test('two stream threads score, and both hot-swap on a promotion', { timeout: 240_000 }, async () => {
  const f = (fixture = await createFixture(kafka, 'scoring-threads'));
  await createTopic(kafka, f.topics.source, PARTITIONS);
  await registerModel(f, 'txn-risk', '1', 42, 'champion');
  await registerModel(f, 'txn-risk', '2', 7, 'shadow');
  const experiment = await saveExperiment(f, {
    salt: `salt-${f.id}`,
    variants: [{ name: 'A', model: 'txn-risk', weight: 1 }],
    shadows: [],
  });
  await writeOnlineFeatures(f, CARDS);
  const threads = new StreamThreads(
    scoringThreadRef({ id: f.id, dir: f.dir, topics: f.topics, view: f.view, experiment: experiment.name }),
    {
      threads: 2,
      instanceId: 'scoring',
      logger: rootLogger,
      worker: { barrierIntervalMs: 200, sinkMaxBatch: 500 },
    },
  );
  const group = `${f.id}-scoring`;
  try {
    await threads.start();
    const { groups } = await withAdmin(kafka, (admin) => admin.describeGroups([group]));
    assert.equal(groups[0]?.members.length, 2, 'two group members in one process');

    const before = makeTxns(2000, CARDS, 1);
    await produce(kafka, f.topics.source, txnMessages(before));
    await waitForCommitted(kafka, group, f.topics.source, before.length, 60_000);

    await f.registry.setStage('txn-risk', '2', 'champion', 'test promotion');
    // Until every partition serves v2: events keep coming, so a thread that missed the event would show.
    let sent = before.length;
    await until(
      'every partition to serve txn-risk@2',
      async () => {
        const probe = makeTxns(200, CARDS, sent, sent);
        sent += probe.length;
        await produce(kafka, f.topics.source, txnMessages(probe));
        await waitForCommitted(kafka, group, f.topics.source, sent, 60_000);
        const latest = new Map<number, string>();
        for (const p of await predictions(f)) latest.set(p.sourcePartition, p.modelVersion);
        return latest.size === PARTITIONS && [...latest.values()].every((v) => v === '2');
      },
      { timeoutMs: 60_000, everyMs: 200 },
    );
    const after = makeTxns(2000, CARDS, 2, sent);
    sent += after.length;
    await produce(kafka, f.topics.source, txnMessages(after));
    await waitForCommitted(kafka, group, f.topics.source, sent, 60_000);

    const served = await predictions(f);
    assert.equal(new Set(served.map((p) => p.eventId)).size, sent, 'every event was scored');
    const lastIds = new Set(after.map((t) => t.txnId));
    const late = served.filter((p) => lastIds.has(p.eventId));
    assert.equal(
      new Set(late.map((p) => p.sourcePartition)).size,
      PARTITIONS,
      'both threads scored the last events',
    );
    assert.deepEqual(
      [...new Set(late.map((p) => p.modelVersion))],
      ['2'],
      'both threads serve the promoted version',
    );
    assert.equal((await lifecycleGroups()).length, 2, 'each thread listens in a group of its own');
  } finally {
    await threads.stop();
  }
  // Each thread's worker closes what its topology opened (withResources): the listeners leave and delete
  // their groups, instead of leaving them behind with a dead member at every restart.
  assert.deepEqual(await lifecycleGroups(), [], 'no lifecycle listener group outlives the threads');

  async function lifecycleGroups(): Promise<string[]> {
    const { groups } = await withAdmin(kafka, (admin) => admin.listGroups());
    return groups.map((g) => g.groupId).filter((id) => id.startsWith(`${f.id}-scoring-lifecycle-`));
  }
});

after(async () => {
  if (fixture) await cleanup(kafka, fixture, `${fixture.id}-scoring`);
});
