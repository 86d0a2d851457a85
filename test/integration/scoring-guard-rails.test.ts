/**
 * A guard rail acting inside a running scoring topology: a slow champion (a wide MLP, ~100x the reference
 * model's inference time) is promoted mid-stream, breaches its p99 latency guard and is rolled back to the
 * previous champion automatically — with an audit record and an alert — while every event still gets
 * exactly one served prediction.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { AuditLog, verifyAuditLog } from '../../services/common/audit-log.js';
import { buildMlpOnnx, randomMlp } from '../../services/trainer/onnx/mlp-onnx.js';
import type { GuardAction } from '../../topologies/scoring/guard-rails.js';
import { createTopic, produce, readAll, testKafka } from '../support/kafka.js';
import {
  cleanup,
  createFixture,
  makeTxns,
  registerBuiltModel,
  registerModel,
  saveExperiment,
  startScoring,
  txnMessages,
  waitForCommitted,
  writeOnlineFeatures,
  type Fixture,
} from '../support/scoring-fixture.js';
import { until } from '../support/until.js';

const kafka = testKafka();
let fixture: Fixture | undefined;
/** Hidden width of the slow model: about 130 ms per 256-row batch on one core here, vs 0.03 ms for v1. */
const SLOW_HIDDEN = 200_000;
/** Far above the fast model's p99 even on a loaded machine, far below the slow model's full batches. */
const GUARD_P99_MS = 60;

/** Registers a wide MLP over v1's features (same metadata and reference profile) as a shadow version. */
async function registerSlowModel(f: Fixture, version: string): Promise<void> {
  const base = await f.registry.get('txn-risk', '1');
  await registerBuiltModel(f, buildMlpOnnx(randomMlp(5, base.features, SLOW_HIDDEN)), { ...base, version });
}

test(
  'a champion breaching its latency guard is rolled back mid-stream, audited and alerted; no event lost',
  { timeout: 240_000 },
  async () => {
    const f = (fixture = await createFixture(kafka, 'scoring-guard'));
    await createTopic(kafka, f.topics.source, 2);
    await registerModel(f, 'txn-risk', '1', 42, 'champion');
    const experiment = await saveExperiment(f, {
      salt: 'g',
      variants: [{ name: 'A', model: 'txn-risk', weight: 1 }],
      shadows: [],
    });
    await writeOnlineFeatures(f, 500);
    const auditFile = path.join(f.dir, 'audit.log');
    const actions: GuardAction[] = [];
    const { scoring, worker } = await startScoring(kafka, f, experiment.name, {
      guards: [{ variant: 'A', maxP99LatencyMs: GUARD_P99_MS, minSamples: 200, consecutive: 2 }],
      guardIntervalMs: 250,
      audit: await AuditLog.open(auditFile),
      onGuardAction: (a) => actions.push(a),
    });
    const group = scoring.topology.name;
    let sent = 0;
    const send = async (n: number) => {
      await produce(kafka, f.topics.source, txnMessages(makeTxns(n, 500, sent + 1, sent)));
      sent += n;
    };
    try {
      await send(1000);
      await waitForCommitted(kafka, group, f.topics.source, sent, 60_000);
      assert.equal(actions.length, 0, `the fast champion never breaches (${JSON.stringify(actions)})`);

      await registerSlowModel(f, '2');
      await f.registry.setStage('txn-risk', '2', 'champion', 'test');
      await until('the slow model to be served', () => scoring.slots.current().A === 'txn-risk@2', {
        everyMs: 50,
      });

      // Keep events coming until the guard acts, in bursts large enough to fill whole batches.
      const deadline = Date.now() + 120_000;
      while (actions.length === 0) {
        assert.ok(Date.now() < deadline, 'the guard rail never acted on the slow champion');
        await send(3000);
        await new Promise((r) => setTimeout(r, 500));
      }
      await until('the restored champion to be served', () => scoring.slots.current().A === 'txn-risk@1', {
        everyMs: 50,
      });
      await send(1000);
      await waitForCommitted(kafka, group, f.topics.source, sent, 180_000);
    } finally {
      await worker.stop();
      await scoring.stop();
    }

    const [action] = actions;
    assert.equal(actions.length, 1, 'one rollback, then the cool-down');
    assert.equal(action?.outcome, 'rolled-back');
    assert.equal(action?.restoredVersion, '1');
    assert.match(action?.reason ?? '', /p99 latency [\d.]+ ms > 60 ms/);
    assert.equal((await f.registry.champion('txn-risk'))?.version, '1');

    const served = (await readAll(kafka, f.topics.predictions))
      .map(
        (m) =>
          JSON.parse(String(m.value)) as {
            predictionId: string;
            eventId: string;
            modelVersion: string;
            shadow: boolean;
          },
      )
      .filter((p) => !p.shadow);
    const byEvent = new Map<string, Set<string>>();
    for (const p of served) byEvent.set(p.eventId, (byEvent.get(p.eventId) ?? new Set()).add(p.modelVersion));
    assert.equal(byEvent.size, sent, 'every event got a served prediction');
    const versions = new Set(served.map((p) => p.modelVersion));
    assert.ok(versions.has('2'), 'the slow model really served before the rollback');
    assert.equal(new Set(served.map((p) => p.predictionId)).size, sent, 'one served prediction id per event');
    for (let i = sent - 1000; i < sent; i++) {
      assert.deepEqual([...(byEvent.get(`t-${i}`) ?? [])], ['1'], `event t-${i} came after the rollback`);
    }

    const audit = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; target: string });
    assert.ok(
      audit.some((e) => e.action === 'model.rollback' && e.target === 'model:txn-risk@1'),
      'the rollback is in the audit log',
    );
    assert.equal((await verifyAuditLog(auditFile)).ok, true, 'the audit hash chain verifies');

    const alerts = (await readAll(kafka, f.topics.alerts)).map(
      (m) => JSON.parse(String(m.value)) as { title: string; severity: string; message: string },
    );
    const alert = alerts.find((a) => /Guard rail rolled back txn-risk to 1/.test(a.title));
    assert.ok(alert, `an alert for the rollback (alerts: ${alerts.map((a) => a.title).join('; ')})`);
    assert.equal(alert.severity, 'CRITICAL');
  },
);

after(async () => {
  if (fixture) await cleanup(kafka, fixture, `${fixture.id}-scoring`);
});
