/**
 * Alert webhooks end to end: alerts on a real Kafka topic, the dispatcher, and a real HTTP receiver that
 * verifies every signature. A receiver that fails transiently gets the alert again; one that refuses it,
 * and a malformed alert, end in the dead-letter topic with the reason; alerts below the minimum severity
 * are not sent; the alerts after them still arrive.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { AlertDispatcher } from '../../services/alerts/alert-dispatcher.js';
import { ALERT_ID_HEADER } from '../../services/alerts/webhook-delivery.js';
import { SIGNATURE_HEADER, verifyWebhook } from '../../services/alerts/webhook-signature.js';
import type { AlertRecord } from '../../schemas/index.js';
import {
  createTopic,
  deleteTopics,
  headerText,
  produce,
  readAll,
  testKafka,
  uniqueName,
} from '../support/kafka.js';

const kafka = testKafka();
const topic = uniqueName('alerts');
const SECRET = '5f0e1d2c3b4a59687766554433221100';
let server: Server | undefined;
let dispatcher: AlertDispatcher | undefined;

const alert = (id: string, severity: AlertRecord['severity'], title = `alert ${id}`): AlertRecord => ({
  alertId: id,
  dedupKey: `guard-rail:${id}`,
  kind: 'MODEL_LIFECYCLE',
  severity,
  title,
  message: `experiment fraud-ab@3, variant A: ${title}`,
  model: 'fraud',
  modelVersion: '3',
  labels: { experiment: 'fraud-ab' },
  ts: Date.now(),
});

test(
  'signed deliveries, retries, refusals and bad alerts dead-lettered, severity filter',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, topic, 1);
    const received: { id: string; valid: boolean; body: AlertRecord }[] = [];
    let flakyFailures = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const check = verifyWebhook([SECRET], req.headers[SIGNATURE_HEADER] as string | undefined, body);
        const parsed = JSON.parse(body) as AlertRecord;
        received.push({ id: String(req.headers[ALERT_ID_HEADER]), valid: check.ok, body: parsed });
        if (parsed.title.includes('refuse')) res.writeHead(422).end('unprocessable');
        else if (parsed.title.includes('flaky') && flakyFailures++ < 2) res.writeHead(503).end('busy');
        else res.writeHead(check.ok ? 204 : 401).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;

    dispatcher = new AlertDispatcher({
      kafka,
      topic,
      groupId: `${topic}-webhooks`,
      config: {
        urls: [new URL(`http://127.0.0.1:${port}/hooks/sluice`)],
        secrets: [SECRET],
        minSeverity: 'WARNING',
      },
      logger: pino({ level: 'silent' }),
      delivery: { minRetryDelayMs: 50, maxRetryDelayMs: 200, retries: 4 },
    });
    await dispatcher.start();
    await produce(kafka, topic, [
      { key: 'a1', value: JSON.stringify(alert('a1', 'CRITICAL')) },
      { key: 'a2', value: JSON.stringify(alert('a2', 'INFO')) },
      { key: 'a3', value: JSON.stringify(alert('a3', 'WARNING', 'flaky receiver')) },
      { key: 'bad', value: '{"alertId": "no-fields"' },
      { key: 'a4', value: JSON.stringify(alert('a4', 'CRITICAL', 'please refuse')) },
      { key: 'a5', value: JSON.stringify(alert('a5', 'CRITICAL', 'after the bad ones')) },
    ]);

    const deadline = Date.now() + 60_000;
    while (!received.some((r) => r.id === 'a5')) {
      assert.ok(Date.now() < deadline, `a5 never arrived (got ${received.map((r) => r.id).join(',')})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      received.every((r) => r.valid),
      'every delivery carries a valid signature',
    );
    assert.deepEqual(
      received.map((r) => r.id),
      ['a1', 'a3', 'a3', 'a3', 'a4', 'a5'],
      'INFO filtered; the flaky receiver got a3 three times (two 503s, then accepted); a4 refused once',
    );
    const first = received[0]!.body;
    assert.equal(first.title, 'alert a1');
    assert.equal(first.severity, 'CRITICAL');
    assert.deepEqual(first.labels, { experiment: 'fraud-ab' });

    const dead = await readAll(kafka, `${topic}.dlq`);
    const reasons = dead.map((m) => [String(m.key), headerText(m.headers, 'sluice.error.code')]);
    assert.deepEqual(reasons.sort(), [
      ['a4', 'WEBHOOK_REFUSED'],
      ['bad', 'BAD_ALERT'],
    ]);
    const refused = dead.find((m) => String(m.key) === 'a4');
    assert.match(String(headerText(refused?.headers, 'sluice.error.message')), /answered 422/);
    assert.equal(headerText(refused?.headers, 'sluice.source.topic'), topic);
  },
);

after(async () => {
  await dispatcher?.stop();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await deleteTopics(kafka, [topic, `${topic}.dlq`]);
});
