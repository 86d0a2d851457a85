/**
 * The closed loop: the scoring topology logs served predictions to ClickHouse, labels arrive, a retrain
 * request makes the trainer register a new shadow version, and the running scoring topology's shadow slot
 * (following the 'shadow' stage) hot-swaps to it, so later shadow predictions carry the new version.
 * The shadow slot needs a shadow version at start, so v2 is registered up front and the retrain makes v3.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { insertLabels } from '../../connectors/clickhouse-tables/predictions.js';
import { startRetrainService, type HandledRequest } from '../../services/trainer/retrain/retrain-service.js';
import { groundTruthLogit, seededRandom } from '../../services/trainer/synthetic-data.js';
import { createTopic, deleteTopics, produce, testKafka } from '../support/kafka.js';
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
const CARDS = 2000;
const FIRST = 3000;
const MORE = 500;
let fixture: Fixture | undefined;
let scoringName = '';
const extraTopics: string[] = [];
const extraGroups: string[] = [];

after(async () => {
  if (fixture) await cleanup(kafka, fixture, scoringName);
  await deleteTopics(kafka, extraTopics);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups(extraGroups).catch(() => undefined);
  await admin.disconnect();
});

test(
  'a retrained version is hot-swapped into the shadow slot of a running scoring topology',
  { timeout: 240_000 },
  async () => {
    const f = (fixture = await createFixture(kafka, 'retrain-loop'));
    await createTopic(kafka, f.topics.source, 1);
    await registerModel(f, 'txn-risk', '1', 42, 'champion');
    await registerModel(f, 'txn-risk', '2', 7, 'shadow');
    const experiment = await saveExperiment(f, {
      salt: `salt-${f.id}`,
      variants: [{ name: 'A', model: 'txn-risk', weight: 1 }],
      shadows: [{ name: 'S', model: 'txn-risk', stage: 'shadow' }],
    });
    await writeOnlineFeatures(f, CARDS);
    const txns = makeTxns(FIRST + MORE, CARDS, 99);
    await produce(kafka, f.topics.source, txnMessages(txns.slice(0, FIRST)));
    const ch = await openClickHouse(f);
    const swaps: string[] = [];
    const { scoring, worker } = await startScoring(kafka, f, experiment.name, {
      onSwap: (c) => swaps.push(`${c.slot}:${c.from}->${c.to}`),
    });
    scoringName = scoring.topology.name;
    const requestsTopic = `${f.id}.retrain`;
    const groupId = `${f.id}-trainer`;
    extraTopics.push(requestsTopic, `${requestsTopic}.dlq`);
    extraGroups.push(groupId);
    const handled: HandledRequest[] = [];
    const service = await startRetrainService({
      kafka,
      registry: f.registry,
      clickhouse: ch,
      topic: requestsTopic,
      groupId,
      logger: pino({ level: 'silent' }),
      onHandled: (h) => handled.push(h),
    });
    try {
      await waitForCommitted(kafka, scoringName, f.topics.source, FIRST, 90_000);

      // Labels from the known ground truth applied to the features the model was served.
      const served = await queryRows<{ eventId: string; featureNames: string[]; featureValues: number[] }>(
        ch,
        `SELECT eventId, featureNames, featureValues FROM sluice.predictions FINAL WHERE shadow = 0 ORDER BY eventId`,
      );
      assert.equal(served.length, FIRST);
      const rand = seededRandom(3);
      await insertLabels(
        ch,
        served.map((p) => {
          const row = Object.fromEntries(p.featureNames.map((n, i) => [n, Number(p.featureValues[i])]));
          return {
            txnId: p.eventId,
            entity: 'c',
            ts: 1,
            isFraud: rand() < 1 / (1 + Math.exp(-groundTruthLogit(row))),
          };
        }),
      );

      const now = Date.now();
      await produce(kafka, requestsTopic, [
        {
          key: 'txn-risk',
          value: JSON.stringify({
            requestId: `${f.id}-req`,
            model: 'txn-risk',
            modelVersion: '1',
            trigger: 'MANUAL',
            reason: 'loop test',
            breaches: [],
            trainFrom: now - 3_600_000,
            trainTo: now + 3_600_000,
            requestedAt: now,
          }),
        },
      ]);
      const deadline = Date.now() + 60_000;
      while (handled.length === 0 || !swaps.includes('S:2->3')) {
        assert.ok(
          Date.now() < deadline,
          `no swap to v3 (handled ${JSON.stringify(handled)}; swaps ${swaps})`,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
      const first = handled[0]!;
      assert.ok(
        first.kind === 'retrained' && first.result.outcome === 'trained' && first.result.version === '3',
      );
      assert.equal((await f.registry.get('txn-risk', '3')).stage, 'shadow');
      assert.equal((await f.registry.champion('txn-risk'))?.version, '1');

      await produce(kafka, f.topics.source, txnMessages(txns.slice(FIRST)));
      await waitForCommitted(kafka, scoringName, f.topics.source, FIRST + MORE, 90_000);
      const later = await queryRows<{ modelVersion: string; shadow: number; n: number | string }>(
        ch,
        `SELECT modelVersion, shadow, count() AS n FROM sluice.predictions FINAL
       WHERE sourceOffset >= ${FIRST} GROUP BY modelVersion, shadow ORDER BY shadow, modelVersion`,
      );
      assert.deepEqual(
        later.map((r) => [r.modelVersion, Number(r.shadow), Number(r.n)]),
        [
          ['1', 0, MORE],
          ['3', 1, MORE],
        ],
      );
    } finally {
      await service.stop();
      await worker.stop();
      await scoring.stop();
    }
  },
);
