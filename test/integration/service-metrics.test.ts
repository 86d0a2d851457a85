/**
 * The alert dispatcher and the trainer serve /metrics, /healthz and /readyz on SLUICE_METRICS_PORT, and the
 * counters their alerting rules read move when an alert is not delivered or a retrain request is refused.
 * The dispatcher runs as `sluice alerts run` (its own process, as deployed); the trainer through runTrainer.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runTrainer } from '../../services/trainer/retrain/main.js';
import { freePort } from '../support/free-port.js';
import type { AlertRecord } from '../../schemas/index.js';
import { createTopic, deleteTopics, produce, readAll, testKafka, uniqueName } from '../support/kafka.js';
import { until } from '../support/until.js';
import { SLUICE_BIN } from '../support/sluice-cli.js';

const kafka = testKafka();
const id = uniqueName('svc-metrics');
const alertsTopic = `${id}.alerts`;
const requestsTopic = `${id}.requests`;
const dir = mkdtempSync(path.join(os.tmpdir(), `${id}-`));
let receiver: Server | undefined;
let dispatcher: ChildProcess | undefined;
const stopTrainer = new AbortController();
let trainer: Promise<void> | undefined;

async function get(port: number, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: await res.text() };
}

/** Polls /metrics until `line` (a sample, exactly) is there. */
const waitForSample = (port: number, line: RegExp, what: string) =>
  until(
    `${what}: ${line} in /metrics`,
    async () => line.test((await get(port, '/metrics').catch(() => ({ status: 0, body: '' }))).body),
    { timeoutMs: 60_000, everyMs: 250 },
  );

test('sluice alerts run counts an undelivered alert on its /metrics', { timeout: 120_000 }, async () => {
  await createTopic(kafka, alertsTopic, 1);
  receiver = createServer((_req, res) => res.writeHead(422).end('no'));
  await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
  const secretFile = path.join(dir, 'webhook.secret');
  writeFileSync(secretFile, 'a'.repeat(64));
  const port = await freePort();
  dispatcher = spawn(process.execPath, [SLUICE_BIN, 'alerts', 'run'], {
    env: {
      ...process.env,
      SLUICE_METRICS_PORT: String(port),
      SLUICE_ALERTS_TOPIC: alertsTopic,
      SLUICE_WEBHOOK_URLS: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      SLUICE_WEBHOOK_SECRET_FILE: secretFile,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForSample(port, /^# TYPE sluice_alert_webhooks_total counter$/m, 'dispatcher started');
  assert.equal((await get(port, '/healthz')).status, 200);

  await produce(kafka, alertsTopic, [
    {
      key: 'a1',
      value: JSON.stringify({
        alertId: 'a1',
        dedupKey: 'test:a1',
        kind: 'DRIFT',
        severity: 'CRITICAL',
        title: 'refused by the receiver',
        message: 'm',
        model: null,
        modelVersion: null,
        labels: {},
        ts: Date.now(),
      }),
    },
  ]);
  await waitForSample(port, /^sluice_alert_webhooks_total\{outcome="dead-lettered"\} 1$/m, 'dead-lettered');
  assert.equal((await get(port, '/readyz')).status, 200, 'a group member is ready');
});

test('the trainer counts a refused request on its /metrics', { timeout: 120_000 }, async () => {
  await createTopic(kafka, requestsTopic, 1);
  const port = await freePort();
  // Its own embedded ClickHouse folder, model registry and request topic; alerts to this test's topic.
  const { CLICKHOUSE_URL: _server, ...env } = process.env;
  trainer = runTrainer(
    {
      ...env,
      SLUICE_METRICS_PORT: String(port),
      SLUICE_RETRAIN_TOPIC: requestsTopic,
      SLUICE_ALERTS_TOPIC: alertsTopic,
      SLUICE_MODEL_DIR: path.join(dir, 'models'),
      SLUICE_CHDB_PATH: path.join(dir, 'chdb'),
    },
    stopTrainer.signal,
  );
  await waitForSample(port, /^# TYPE sluice_retrain_requests_total counter$/m, 'trainer started');
  await produce(kafka, requestsTopic, [{ key: 'm', value: '{"requestId": "broken' }]);
  await waitForSample(
    port,
    /^sluice_retrain_requests_total\{outcome="dead_letter",reason="NOT_JSON"\} 1$/m,
    'refused request',
  );
  assert.equal((await get(port, '/healthz')).status, 200);
  assert.equal((await get(port, '/readyz')).status, 200);
  // Its RETRAIN alert went to the topic SLUICE_ALERTS_TOPIC names, after the dispatcher's one.
  const alerts = (await readAll(kafka, alertsTopic)).map((m) => JSON.parse(String(m.value)) as AlertRecord);
  assert.deepEqual(
    alerts.map((a) => [a.kind, a.labels.code ?? null]),
    [
      ['DRIFT', null],
      ['RETRAIN', 'NOT_JSON'],
    ],
  );
});

after(async () => {
  dispatcher?.kill('SIGTERM');
  stopTrainer.abort();
  await trainer?.catch(() => undefined);
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
  await deleteTopics(kafka, [alertsTopic, `${alertsTopic}.dlq`, requestsTopic, `${requestsTopic}.dlq`]);
  rmSync(dir, { recursive: true, force: true });
});
