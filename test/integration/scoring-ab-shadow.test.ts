/**
 * 50k transactions through the scoring topology against real Kafka, Redis and embedded ClickHouse:
 * every served prediction has its shadow twin, the entity split matches the weights within 4 sigma, one
 * entity always gets one variant, and a champion promotion mid-stream neither loses nor double-scores an
 * event on the served path.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import { register } from 'prom-client';
import { createTopic, produce, readAll, testKafka } from '../support/kafka.js';
import {
  cleanup,
  createFixture,
  makeTxns,
  openClickHouse,
  queryRows,
  registerModel,
  saveExperiment,
  startScoring,
  txnMessages,
  waitForCommitted,
  writeOnlineFeatures,
  type Fixture,
} from '../support/scoring-fixture.js';

const kafka = testKafka();
const EVENTS = 50_000;
const FIRST = 30_000;
const CARDS = 20_000;
const WEIGHT_A = 0.7;
let fixture: Fixture | undefined;

/** Independent re-statement of the routing rule: sha256(salt NUL key), 48 bits, against 0.7. */
function expectedVariant(salt: string, key: string): string {
  const bucket = createHash('sha256').update(`${salt}\u0000${key}`).digest().readUIntBE(0, 6) / 2 ** 48;
  return bucket < WEIGHT_A ? 'A' : 'B';
}

test('A/B + shadow over 50k events with a promotion mid-stream', { timeout: 240_000 }, async () => {
  const f = (fixture = await createFixture(kafka, 'scoring-ab'));
  await createTopic(kafka, f.topics.source, 2);
  await registerModel(f, 'txn-risk', '1', 42, 'champion');
  await registerModel(f, 'txn-risk', '2', 7, 'shadow');
  await registerModel(f, 'txn-risk-b', '1', 11, 'champion');
  await registerModel(f, 'txn-risk-shadow', '1', 13, 'champion');
  const salt = `salt-${f.id}`;
  const experiment = await saveExperiment(f, {
    salt,
    variants: [
      { name: 'A', model: 'txn-risk', weight: WEIGHT_A },
      { name: 'B', model: 'txn-risk-b', weight: 1 - WEIGHT_A },
    ],
    shadows: [{ name: 'S', model: 'txn-risk-shadow', modelVersion: '1' }],
  });
  await writeOnlineFeatures(f, CARDS);
  const txns = makeTxns(EVENTS, CARDS, 99);
  await produce(kafka, f.topics.source, txnMessages(txns.slice(0, FIRST)));
  const ch = await openClickHouse(f);

  const swaps: string[] = [];
  const started = Date.now();
  const { scoring, worker } = await startScoring(kafka, f, experiment.name, {
    onSwap: (c) => swaps.push(`${c.slot}:${c.from}->${c.to}`),
  });
  const group = scoring.topology.name;
  try {
    // Promote while the first 30k are being scored, then send the rest.
    await waitForCommitted(kafka, group, f.topics.source, 10_000, 60_000);
    await f.registry.setStage('txn-risk', '2', 'champion', 'test promotion');
    const deadline = Date.now() + 30_000;
    while (!swaps.includes('A:1->2')) {
      assert.ok(Date.now() < deadline, `variant A was not hot-swapped (swaps: ${swaps.join(', ')})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await produce(kafka, f.topics.source, txnMessages(txns.slice(FIRST)));
    await waitForCommitted(kafka, group, f.topics.source, EVENTS, 120_000);
  } finally {
    await worker.stop();
    await scoring.stop();
  }
  const elapsed = Date.now() - started;

  const table = 'sluice.predictions';
  const where = `experiment = '${experiment.name}'`;
  const [served] = await queryRows<{ n: string; ids: string; offsets: string }>(
    ch,
    `SELECT count() AS n, uniqExact(predictionId) AS ids, uniqExact(sourcePartition, sourceOffset) AS offsets
     FROM ${table} FINAL WHERE ${where} AND shadow = 0`,
  );
  assert.equal(Number(served?.n), EVENTS, 'one served prediction per event (after FINAL)');
  assert.equal(Number(served?.ids), EVENTS, 'distinct served predictionIds == events');
  assert.equal(Number(served?.offsets), EVENTS, 'every source event was served exactly once');

  const [twins] = await queryRows<{ events: string; complete: string }>(
    ch,
    `SELECT count() AS events, countIf(s = 1 AND h = 1) AS complete FROM (
       SELECT sourcePartition, sourceOffset, countIf(shadow = 0) AS s, countIf(shadow = 1) AS h
       FROM ${table} FINAL WHERE ${where} GROUP BY sourcePartition, sourceOffset)`,
  );
  assert.equal(Number(twins?.events), EVENTS);
  assert.equal(Number(twins?.complete), EVENTS, 'every served prediction has exactly one shadow twin');

  // One variant per entity, and it is the one the hash rule gives.
  const perEntity = await queryRows<{ entity: string; variants: string[] }>(
    ch,
    `SELECT entity, groupUniqArray(variant) AS variants FROM ${table} FINAL WHERE ${where} AND shadow = 0 GROUP BY entity`,
  );
  const split = { A: 0, B: 0 };
  for (const e of perEntity) {
    assert.equal(e.variants.length, 1, `entity ${e.entity} got variants ${e.variants.join(', ')}`);
    assert.equal(e.variants[0], expectedVariant(salt, e.entity), `entity ${e.entity}`);
    split[e.variants[0] as 'A' | 'B'] += 1;
  }
  // The unit of randomisation is the entity, so the binomial check is over entities.
  const n = perEntity.length;
  const sigma = Math.sqrt(n * WEIGHT_A * (1 - WEIGHT_A));
  assert.ok(
    Math.abs(split.A - n * WEIGHT_A) <= 4 * sigma,
    `A got ${split.A} of ${n} entities; expected ${n * WEIGHT_A} +- ${4 * sigma}`,
  );

  // The promotion: variant A used v1 then v2, and within each partition the switch is one clean cut.
  const versions = await queryRows<{ p: number; v: string; lo: string; hi: string; n: string }>(
    ch,
    `SELECT sourcePartition AS p, modelVersion AS v, min(sourceOffset) AS lo, max(sourceOffset) AS hi, count() AS n
     FROM ${table} FINAL WHERE ${where} AND shadow = 0 AND variant = 'A' GROUP BY p, v ORDER BY p, v`,
  );
  assert.deepEqual([...new Set(versions.map((r) => r.v))].sort(), ['1', '2'], 'served by v1, then v2');
  for (const p of new Set(versions.map((r) => r.p))) {
    const v1 = versions.find((r) => r.p === p && r.v === '1');
    const v2 = versions.find((r) => r.p === p && r.v === '2');
    if (v1 && v2) assert.ok(Number(v1.hi) < Number(v2.lo), `partition ${p}: v1 and v2 interleave`);
  }

  // Features are logged as scored; cards without online features were filled with defaults and counted.
  const [logged] = await queryRows<{ names: string[] }>(
    ch,
    `SELECT featureNames AS names FROM ${table} WHERE ${where} AND variant = 'A' LIMIT 1`,
  );
  assert.deepEqual(logged?.names, (await f.registry.get('txn-risk', '2')).features);
  const missing = await register.getSingleMetric('sluice_enrich_missing_features_total')?.get();
  const defaulted = (missing?.values ?? []).filter((v) => v.labels.view === f.view);
  assert.ok(
    defaulted.some((v) => v.labels.feature === 'txnCount1m' && v.value > 0),
    'defaults were counted',
  );

  // The predictions topic holds the same predictions (served + shadow), each id at least once.
  const topic = await readAll(kafka, f.topics.predictions);
  const ids = new Set(
    topic.map((m) => (JSON.parse(String(m.value)) as { predictionId: string }).predictionId),
  );
  assert.equal(ids.size, 2 * EVENTS);
  console.log(`# 50k events scored (served + shadow) in ${elapsed} ms; split A=${split.A} B=${split.B}`);
});

after(async () => {
  if (fixture) await cleanup(kafka, fixture, `${fixture.id}-scoring`);
});
