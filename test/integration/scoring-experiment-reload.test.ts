/**
 * A running scoring topology picks up a new experiment version without a restart: 2000 events are served
 * by version 1 (100% A), a 50/50 A/B version 2 is saved to the store, the worker switches on its own, and
 * 4000 more events are served by version 2. Against real Kafka and Redis: every event has exactly one
 * served prediction, stamped with the version that routed it, and version 2 routes by its own hash rule.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import { register } from 'prom-client';
import { EXPERIMENT_VERSION_METRIC } from '../../topologies/scoring/serving-experiment.js';
import { createTopic, produce, readAll, testKafka } from '../support/kafka.js';
import {
  cleanup,
  createFixture,
  makeTxns,
  registerModel,
  saveExperiment,
  startScoring,
  txnMessages,
  waitForCommitted,
  writeOnlineFeatures,
  type Fixture,
} from '../support/scoring-fixture.js';

const kafka = testKafka();
const BEFORE = 2000;
const AFTER = 4000;
const CARDS = 3000;
let fixture: Fixture | undefined;

/** Independent re-statement of the routing rule: sha256(salt NUL key), 48 bits, against 0.5. */
const expectedVariant = (salt: string, key: string) =>
  createHash('sha256').update(`${salt}\u0000${key}`).digest().readUIntBE(0, 6) / 2 ** 48 < 0.5 ? 'A' : 'B';

interface Served {
  predictionId: string;
  eventId: string;
  entity: string;
  model: string;
  variant: string;
  experimentVersion: number;
  shadow: boolean;
}

test('a new experiment version is served without a restart', { timeout: 180_000 }, async () => {
  const f = (fixture = await createFixture(kafka, 'scoring-reload'));
  await createTopic(kafka, f.topics.source, 2);
  await registerModel(f, 'txn-risk', '1', 42, 'champion');
  await registerModel(f, 'txn-risk-b', '1', 11, 'champion');
  const salt = `salt-${f.id}`;
  const v1 = await saveExperiment(f, {
    salt,
    variants: [{ name: 'A', model: 'txn-risk', weight: 1 }],
    shadows: [],
  });
  await writeOnlineFeatures(f, CARDS);
  const txns = makeTxns(BEFORE + AFTER, CARDS, 5);

  const switches: number[] = [];
  const { scoring, worker } = await startScoring(kafka, f, v1.name, {
    experimentStore: f.experiments,
    experimentPollMs: 200,
    // A guard without a variant covers every served variant, also those a new version adds.
    guards: [{ maxErrorRate: 0.5, minSamples: 1_000_000 }],
    onExperimentSwitch: (c) => switches.push(c.to),
  });
  const group = scoring.topology.name;
  const gauge = async () =>
    (await register.getSingleMetric(EXPERIMENT_VERSION_METRIC)?.get())?.values.find(
      (v) => v.labels.topology === group,
    )?.value;
  try {
    assert.equal(scoring.experiment.version, 1);
    assert.equal(await gauge(), 1);
    assert.deepEqual(scoring.guardRails?.guardedVariants, ['A']);
    await produce(kafka, f.topics.source, txnMessages(txns.slice(0, BEFORE)));
    await waitForCommitted(kafka, group, f.topics.source, BEFORE, 60_000);

    const v2 = await saveExperiment(f, {
      salt,
      variants: [
        { name: 'A', model: 'txn-risk', weight: 0.5 },
        { name: 'B', model: 'txn-risk-b', weight: 0.5 },
      ],
      shadows: [],
    });
    assert.equal(v2.version, 2);
    const deadline = Date.now() + 30_000;
    while ((await gauge()) !== 2) {
      assert.ok(Date.now() < deadline, `no switch to version 2 (switches: ${switches.join(', ')})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(scoring.experiment.version, 2);
    // The guard rails are re-armed once the switch is reported (the gauge moves a moment earlier).
    while (switches.length === 0) {
      assert.ok(Date.now() < deadline, 'the switch was never reported');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(scoring.guardRails?.guardedVariants, ['A', 'B'], 'the new variant is guarded too');
    assert.deepEqual(Object.keys(scoring.slots.current()).sort(), ['A', 'B']);

    await produce(kafka, f.topics.source, txnMessages(txns.slice(BEFORE)));
    await waitForCommitted(kafka, group, f.topics.source, BEFORE + AFTER, 90_000);
  } finally {
    await worker.stop();
    await scoring.stop();
  }
  assert.deepEqual(switches, [2], 'switched once, to version 2');

  const served = (await readAll(kafka, f.topics.predictions))
    .map((m) => JSON.parse(String(m.value)) as Served)
    .filter((p) => !p.shadow);
  const byEvent = new Map<string, Served[]>();
  for (const p of served) byEvent.set(p.eventId, [...(byEvent.get(p.eventId) ?? []), p]);
  assert.equal(byEvent.size, BEFORE + AFTER, 'every event was served');
  assert.equal(served.length, BEFORE + AFTER, 'no event served twice');
  assert.equal(new Set(served.map((p) => p.predictionId)).size, BEFORE + AFTER, 'one prediction id each');

  const split = { A: new Set<string>(), B: new Set<string>() };
  txns.forEach((t, i) => {
    const [p] = byEvent.get(t.txnId) ?? [];
    assert.ok(p, `event ${t.txnId} has no served prediction`);
    if (i < BEFORE) {
      assert.equal(p.experimentVersion, 1, `${t.txnId} was sent before the switch`);
      assert.equal(p.variant, 'A', `${t.txnId}`);
      assert.equal(p.model, 'txn-risk');
    } else {
      assert.equal(p.experimentVersion, 2, `${t.txnId} was sent after the switch`);
      assert.equal(p.variant, expectedVariant(salt, t.cardId), `${t.txnId} routed by version 2's rule`);
      assert.equal(p.model, p.variant === 'A' ? 'txn-risk' : 'txn-risk-b');
      split[p.variant as 'A' | 'B'].add(t.cardId);
    }
  });
  // The unit of randomisation is the entity: the 50/50 check is over the entities seen after the switch.
  const n = split.A.size + split.B.size;
  const sigma = Math.sqrt(n * 0.25);
  assert.ok(
    Math.abs(split.A.size - n / 2) <= 4 * sigma,
    `A got ${split.A.size} of ${n} entities after the switch; expected ${n / 2} +- ${4 * sigma}`,
  );
});

after(async () => {
  if (fixture) await cleanup(kafka, fixture, `${fixture.id}-scoring`);
});
