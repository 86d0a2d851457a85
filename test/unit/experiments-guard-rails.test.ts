/**
 * Guard rails: N consecutive breached evaluations roll the variant's model back in a real registry, append
 * a hash-chained audit record and produce an alert; a healthy evaluation resets the count; too few samples
 * never count; a cool-down stops a second rollback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ExperimentConfig } from '../../connectors/experiments/index.js';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import { VariantMonitor } from '../../operators/score/variant-monitor.js';
import { AuditLog, verifyAuditLog } from '../../services/common/audit-log.js';
import { buildReferenceModel } from '../../services/trainer/build-reference-model.js';
import type { AlertSink } from '../../topologies/scoring/alerts.js';
import { GuardRailConfigError, GuardRails } from '../../topologies/scoring/guard-rails.js';
import type { AlertRecord } from '../../schemas/index.js';

const experiment: ExperimentConfig = {
  name: 'exp',
  version: 1,
  createdAt: '2026-01-01T00:00:00Z',
  salt: 's',
  variants: [
    { name: 'A', model: 'txn-risk', weight: 0.5 },
    { name: 'B', model: 'other', modelVersion: '1', weight: 0.5 },
  ],
  shadows: [],
};

function feed(monitor: VariantMonitor, slot: string, rows: number, errorRate: number, latencyMs = 1) {
  for (let i = 0; i < rows; i++) monitor.observe(slot, latencyMs, i % Math.round(1 / errorRate || 1e9) !== 0);
}

test('a breach held for N evaluations rolls back, audits and alerts; then cools down', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'guard-'));
  const registry = new FileModelRegistry({ root: path.join(dir, 'models') });
  for (const [version, seed] of [
    ['1', 1],
    ['2', 2],
  ] as const) {
    const out = path.join(dir, `m${version}`);
    await buildReferenceModel({ outDir: out, seed, rows: 500, version });
    await registry.registerFromDirectory(out, { stage: 'champion' });
  }
  assert.equal((await registry.champion('txn-risk'))?.version, '2');
  const auditFile = path.join(dir, 'audit.log');
  const audit = await AuditLog.open(auditFile);
  const alerts: Omit<AlertRecord, 'alertId' | 'ts'>[] = [];
  const alertSink: AlertSink = {
    send: async (a) => (alerts.push(a), { ...a, alertId: 'x', ts: 0 }),
  };
  const refreshed: (string | undefined)[] = [];
  const monitor = new VariantMonitor(1000);
  let now = 0;
  const guards = new GuardRails({
    experiment,
    guards: [{ variant: 'A', maxErrorRate: 0.05, minSamples: 100, consecutive: 3 }],
    monitor,
    slots: {
      slotRef: (s) => experiment.variants.find((v) => v.name === s),
      refresh: async (m) => void refreshed.push(m),
    },
    registry,
    audit,
    alerts: alertSink,
    cooldownMs: 10_000,
    now: () => now,
  });

  feed(monitor, 'A', 50, 0.2); // too few samples: not a breach
  assert.deepEqual(await guards.evaluate(), []);
  feed(monitor, 'A', 100, 0.2);
  assert.deepEqual(await guards.evaluate(), []); // breach 1
  assert.deepEqual(await guards.evaluate(), []); // breach 2
  monitor.reset('A');
  feed(monitor, 'A', 200, 0.001); // healthy: the streak starts over
  assert.deepEqual(await guards.evaluate(), []);
  feed(monitor, 'A', 1000, 0.2);
  assert.deepEqual(await guards.evaluate(), []);
  assert.deepEqual(await guards.evaluate(), []);
  assert.equal((await registry.champion('txn-risk'))?.version, '2', 'no action before the 3rd breach');
  const [action] = await guards.evaluate();
  assert.equal(action?.outcome, 'rolled-back');
  assert.equal(action?.restoredVersion, '1');
  assert.match(action!.reason, /error rate 0\.2\d* > 0\.05 for 3 consecutive/);
  assert.equal((await registry.champion('txn-risk'))?.version, '1', 'registry rolled back');
  assert.deepEqual(refreshed, ['txn-risk']);

  const check = await verifyAuditLog(auditFile);
  assert.equal(check.ok, true);
  const lines = readFileSync(auditFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].action, 'model.rollback');
  assert.equal(lines[0].target, 'model:txn-risk@1');
  assert.equal(lines[0].details.variant, 'A');
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.severity, 'CRITICAL');
  assert.equal(alerts[0]?.modelVersion, '1');

  // Cool-down: still failing, but no second rollback until it has passed.
  feed(monitor, 'A', 1000, 0.2);
  for (let i = 0; i < 5; i++) assert.deepEqual(await guards.evaluate(), []);
  now = 20_000;
  await guards.evaluate();
  await guards.evaluate();
  const [second] = await guards.evaluate();
  // The registry's rollback restores whatever the current champion replaced (here v2 again): the
  // cool-down is what keeps a flapping variant from bouncing between versions every few seconds.
  assert.equal(second?.outcome, 'rolled-back');
  assert.equal(second?.restoredVersion, '2');
  assert.equal((await verifyAuditLog(auditFile)).ok, true);
});

test('p99 latency breaches count; a pinned variant only alerts', async () => {
  const monitor = new VariantMonitor(500);
  const alerts: string[] = [];
  const guards = new GuardRails({
    experiment,
    guards: [{ variant: 'B', maxP99LatencyMs: 50, minSamples: 100, consecutive: 1 }],
    monitor,
    slots: { slotRef: (s) => experiment.variants.find((v) => v.name === s), refresh: async () => {} },
    registry: { rollback: async () => assert.fail('a pinned variant must not be rolled back') },
    audit: { record: async () => undefined },
    alerts: { send: async (a) => (alerts.push(a.title), { ...a, alertId: 'x', ts: 0 }) },
  });
  for (let i = 0; i < 500; i++) monitor.observe('B', i < 490 ? 5 : 80, true); // 2% slow rows: p99 = 80
  assert.equal(monitor.health('B').p99LatencyMs, 80);
  const [action] = await guards.evaluate();
  assert.equal(action?.outcome, 'alert-only');
  assert.match(action!.reason, /p99 latency 80\.00 ms > 50 ms/);
  assert.equal(alerts.length, 1);
});

test('bad guard configuration fails fast with the fix', () => {
  const base = {
    experiment,
    monitor: new VariantMonitor(),
    slots: { slotRef: () => undefined, refresh: async () => {} },
    registry: { rollback: async () => ({ version: '1' }) },
    audit: { record: async () => undefined },
    alerts: { send: async () => ({}) as AlertRecord },
  };
  assert.throws(() => new GuardRails({ ...base, guards: [{ variant: 'A' }] }), GuardRailConfigError);
  assert.throws(
    () => new GuardRails({ ...base, guards: [{ variant: 'Z', maxErrorRate: 0.1 }] }),
    /serves A, B/,
  );
});
