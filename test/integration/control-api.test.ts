/**
 * The control API through fastify.inject, backed by in-memory sources: roles per route, validation, the
 * status document, drift and experiment reads, and audited promotions and rollbacks.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { FileExperimentStore } from '../../connectors/experiments/index.js';
import { parseTokenList, verifyAuditLog } from '../../services/common/index.js';
import { createControlService } from '../../services/control/server.js';
import type { DriftSeries, ExperimentReport } from '../../services/control/sources.js';
import {
  fixedHealth,
  fixedThroughput,
  InMemoryStageChanger,
  inMemoryDrift,
  inMemoryLag,
  inMemoryReports,
  inMemoryTopologies,
} from '../../services/control/testing/in-memory-sources.js';

const VIEWER = 'viewer-token-0123456789abcdef';
const OPERATOR = 'operator-token-0123456789abcdef';
const HOUR = 3600_000;
const T0 = Date.parse('2025-03-01T00:00:00Z');

const amountPsi: DriftSeries = {
  feature: 'amount',
  metric: 'psi',
  threshold: 0.2,
  points: [0.05, 0.08, 0.31, 0.12].map((value, i) => ({
    windowStart: T0 + i * HOUR,
    value,
    sampleSize: 1000 + i,
    breached: value > 0.2,
  })),
};
const report: ExperimentReport = {
  experiment: 'fraud-ab',
  k: 100,
  confidence: 0.95,
  generatedAt: T0,
  variants: [
    {
      variant: 'champion',
      n: 5000,
      auc: 0.81,
      logLoss: 0.33,
      precisionAtK: 0.42,
      aucCi: { low: 0.8, high: 0.82 },
    },
    { variant: 'challenger', n: 4900, auc: null, logLoss: null, precisionAtK: null, aucCi: null },
  ],
};

describe('control API', () => {
  let dir: string;
  let app: FastifyInstance;
  const models = new InMemoryStageChanger({ 'fraud@1': 'champion', 'fraud@2': 'challenger' });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sluice-control-'));
    app = await createControlService(
      {
        status: {
          topologies: inMemoryTopologies([
            { name: 'scoring', groupId: 'scoring', topics: ['txn.events'] },
            { name: 'broken', groupId: 'nobody', topics: ['x'] },
          ]),
          lag: inMemoryLag({
            scoring: [
              { topic: 'txn.events', partition: 0, committed: '90', end: '100', lag: 10 },
              { topic: 'txn.events', partition: 1, committed: null, end: '7', lag: 7 },
            ],
          }),
          throughput: fixedThroughput({ scoring: 250.5 }),
          health: fixedHealth([{ name: 'registry', url: 'http://x/healthz', status: 'ok', latencyMs: 3 }]),
        },
        drift: inMemoryDrift({ fraud: [amountPsi] }),
        experiments: inMemoryReports([report]),
        models,
        experimentConfigs: new FileExperimentStore({ root: path.join(dir, 'experiments') }),
      },
      {
        logger: pino({ level: 'silent' }),
        auditLogPath: path.join(dir, 'audit.log'),
        tokens: { mode: 'tokens', tokens: parseTokenList(`viewer:${VIEWER}:vera,operator:${OPERATOR}:otto`) },
      },
    );
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string, token = VIEWER) =>
    app.inject({ url, headers: { authorization: `Bearer ${token}` } });
  const post = (url: string, body: unknown, token = OPERATOR) =>
    app.inject({
      method: 'POST',
      url,
      payload: body as object,
      headers: { authorization: `Bearer ${token}` },
    });

  it('reports lag per partition, throughput and services, with a failing topology in place', async () => {
    const res = await get('/api/status');
    assert.equal(res.statusCode, 200);
    const status = res.json();
    const scoring = status.topologies.find((t: { name: string }) => t.name === 'scoring');
    assert.equal(scoring.lag.total, 17);
    assert.deepEqual(
      scoring.lag.partitions.map((p: { partition: number; lag: number }) => [p.partition, p.lag]),
      [
        [0, 10],
        [1, 7],
      ],
    );
    assert.equal(scoring.recordsPerSecond, 250.5);
    const broken = status.topologies.find((t: { name: string }) => t.name === 'broken');
    assert.equal(broken.lag, null);
    assert.match(broken.lagError, /group nobody unknown/);
    assert.equal(status.services[0].status, 'ok');
    assert.equal((await app.inject('/api/status')).statusCode, 401);
  });

  it('returns drift series inside the requested range and validates the query', async () => {
    const q = `model=fraud&from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3 * HOUR).toISOString()}`;
    const res = await get(`/api/drift?${q}`);
    assert.equal(res.statusCode, 200);
    const [series] = res.json().series;
    assert.equal(series.feature, 'amount');
    assert.equal(series.threshold, 0.2);
    assert.deepEqual(
      series.points.map((p: { value: number }) => p.value),
      amountPsi.points.slice(0, 3).map((p) => p.value),
    );
    assert.equal((await get('/api/drift?from=2025-01-01T00:00:00Z')).statusCode, 400);
    assert.equal((await get('/api/drift?model=fraud&to=yesterday')).statusCode, 400);
    assert.equal((await get('/api/drift?model=../etc')).statusCode, 400);
    const reversed = await get(`/api/drift?model=fraud&from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z`);
    assert.equal(reversed.statusCode, 400);
    assert.match(reversed.json().message, /before/);
  });

  it('returns an experiment report, 404 for an unknown one', async () => {
    const res = await get('/api/experiments/fraud-ab/report');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), report);
    const missing = await get('/api/experiments/nope/report');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error, 'NOT_FOUND');
  });

  it('lets operators promote and roll back, records both in a verifiable audit log', async () => {
    assert.equal(
      (await post('/api/models/fraud/promote', { version: '2', reason: 'wins A/B' }, VIEWER)).statusCode,
      403,
    );
    assert.equal((await post('/api/models/fraud/promote', { version: '2' })).statusCode, 400);
    assert.equal(
      (await post('/api/models/fraud/promote', { version: '2', reason: 'x y', extra: 1 })).statusCode,
      400,
    );

    const promoted = await post('/api/models/fraud/promote', { version: '2', reason: 'wins A/B' });
    assert.equal(promoted.statusCode, 200);
    assert.equal(promoted.json().stage, 'champion');
    assert.equal(models.stages.get('fraud@2'), 'champion');
    assert.equal(models.stages.get('fraud@1'), 'archived');

    const rolled = await post('/api/models/fraud/rollback', { reason: 'latency regression' });
    assert.equal(rolled.statusCode, 200);
    assert.equal(rolled.json().version, '1');
    assert.equal(models.stages.get('fraud@1'), 'champion');

    const missing = await post('/api/models/fraud/promote', { version: '9', reason: 'typo' });
    assert.equal(missing.statusCode, 404);
    const noPrevious = await post('/api/models/other/rollback', { reason: 'nothing to undo' });
    assert.equal(noPrevious.statusCode, 409);
    assert.equal(noPrevious.json().error, 'NO_PREVIOUS_CHAMPION');

    const file = path.join(dir, 'audit.log');
    const records = (await readFile(file, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((r) => [r.actor, r.action, r.target, r.details.outcome]),
      [
        ['otto', 'model.promote', 'model:fraud@2', 'ok'],
        ['otto', 'model.rollback', 'model:fraud@1', 'ok'],
        ['otto', 'model.promote', 'model:fraud@9', 'failed'],
        ['otto', 'model.rollback', 'model:other', 'failed'],
      ],
    );
    assert.equal(records[0].details.reason, 'wins A/B');
    assert.equal(promoted.json().auditSeq, records[0].seq);
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(OPERATOR), 'the audit log must never contain a token');
    assert.equal((await verifyAuditLog(file)).ok, true);
  });

  it('saves experiment versions for operators only, validated and audited; lists and reads them', async () => {
    const put = (body: unknown, token = OPERATOR) =>
      app.inject({
        method: 'PUT',
        url: '/api/experiments/fraud-ab',
        payload: body as object,
        headers: { authorization: `Bearer ${token}` },
      });
    const draft = {
      salt: 'v1',
      variants: [
        { name: 'champion', model: 'fraud', stage: 'champion', weight: 0.9 },
        { name: 'challenger', model: 'fraud', stage: 'challenger', weight: 0.1 },
      ],
      shadows: [],
      reason: 'start the A/B test',
    };
    assert.equal((await put(draft, VIEWER)).statusCode, 403, 'viewers cannot change experiments');
    const first = await put(draft);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().version, 1);
    const bad = await put({
      ...draft,
      variants: [{ ...draft.variants[0], weight: 0.5 }],
      reason: 'oops weights',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /weight/i);
    const second = await put({
      ...draft,
      variants: [
        { ...draft.variants[0], weight: 0.5 },
        { ...draft.variants[1], weight: 0.5 },
      ],
      reason: 'even split',
    });
    assert.equal(second.json().version, 2);

    assert.deepEqual((await get('/api/experiments')).json(), {
      experiments: [{ name: 'fraud-ab', latest: 2 }],
    });
    assert.equal((await get('/api/experiments/fraud-ab')).json().variants[0].weight, 0.5);
    assert.equal((await get('/api/experiments/fraud-ab?version=1')).json().variants[0].weight, 0.9);
    assert.equal((await get('/api/experiments/nope')).statusCode, 404);

    const lines = (await readFile(path.join(dir, 'audit.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const sets = lines.filter((l) => l.action === 'experiment.set');
    assert.deepEqual(
      sets.map((l) => [l.actor, l.target, l.details.outcome]),
      [
        ['otto', 'experiment:fraud-ab@1', 'ok'],
        ['otto', 'experiment:fraud-ab', 'failed'],
        ['otto', 'experiment:fraud-ab@2', 'ok'],
      ],
    );
  });

  it('serves the page shell without a token, with a strict CSP', async () => {
    const page = await app.inject('/');
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(page.headers['content-security-policy'] as string, /script-src 'self'/);
    assert.match(page.body, /<script type="module" src="\/app.js">/);
    assert.equal((await app.inject('/app.js')).statusCode, 200);
  });

  it('documents every API route with its role in the OpenAPI document', async () => {
    const doc = (await get('/openapi.json')).json();
    assert.equal(doc.paths['/api/status'].get['x-sluice-role'], 'viewer');
    assert.equal(doc.paths['/api/models/{name}/promote'].post['x-sluice-role'], 'operator');
    assert.deepEqual(
      doc.paths['/api/models/{name}/promote'].post.requestBody.content['application/json'].schema.required,
      ['version', 'reason'],
    );
    assert.equal(doc.paths['/'], undefined);
  });
});
