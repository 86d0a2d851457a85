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
const grownTopic = uniqueName('alerts-grown');
let grownDispatcher: AlertDispatcher | undefined;
const servers: Server[] = [];

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

test(
  'an alerts topic with more partitions than its dead-letter topic: failures on every partition are dead-lettered and the alerts after them arrive',
  { timeout: 120_000 },
  async () => {
    // The dispatcher creates a 1-partition DLQ; dead letters pinned to their source partition could not be
    // written from partitions 1 and 2, and the failed send would block those partitions for good.
    await createTopic(kafka, grownTopic, 3);
    const receiver = await listen((parsed) => (parsed.title.includes('refuse') ? 422 : 204));
    grownDispatcher = new AlertDispatcher({
      kafka,
      topic: grownTopic,
      groupId: `${grownTopic}-webhooks`,
      config: { urls: [receiver.url], secrets: [SECRET], minSeverity: 'INFO' },
      logger: pino({ level: 'silent' }),
      delivery: { minRetryDelayMs: 50, maxRetryDelayMs: 200, retries: 1 },
    });
    await grownDispatcher.start();
    const messages = [0, 1, 2].flatMap((partition) => [
      { partition, key: `bad-${partition}`, value: '{"alertId": "truncated' },
      {
        partition,
        key: `refused-${partition}`,
        value: JSON.stringify(alert(`refused-${partition}`, 'CRITICAL', 'please refuse')),
      },
      { partition, key: `ok-${partition}`, value: JSON.stringify(alert(`ok-${partition}`, 'CRITICAL')) },
    ]);
    await produce(kafka, grownTopic, messages);

    const expected = ['ok-0', 'ok-1', 'ok-2'];
    const deadline = Date.now() + 60_000;
    while (!expected.every((id) => receiver.ids.includes(id))) {
      assert.ok(Date.now() < deadline, `not every partition flowed on (got ${receiver.ids.join(',')})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const dead = await readAll(kafka, `${grownTopic}.dlq`);
    const letters = dead.map((m) => `${String(m.key)}@${headerText(m.headers, 'sluice.source.partition')}`);
    assert.deepEqual(letters.sort(), [
      'bad-0@0',
      'bad-1@1',
      'bad-2@2',
      'refused-0@0',
      'refused-1@1',
      'refused-2@2',
    ]);
  },
);

/** A webhook receiver answering each alert with `status(alert)`; ids are recorded in arrival order. */
async function listen(status: (alert: AlertRecord) => number): Promise<{ url: URL; ids: string[] }> {
  const ids: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const parsed = JSON.parse(body) as AlertRecord;
      ids.push(parsed.alertId);
      res.writeHead(status(parsed)).end();
    });
  });
  servers.push(receiver);
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  return { url: new URL(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`), ids };
}

after(async () => {
  await dispatcher?.stop();
  await grownDispatcher?.stop();
  for (const s of [server, ...servers]) await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  await deleteTopics(kafka, [topic, `${topic}.dlq`, grownTopic, `${grownTopic}.dlq`]);
});
