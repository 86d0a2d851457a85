/** Health, readiness, metrics, OpenAPI, validation and request ids of the shared service scaffolding. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createService, parseTokenList } from '../../services/common/index.js';

const VIEWER = 'v'.repeat(32);
const auth = { authorization: `Bearer ${VIEWER}` };

describe('service scaffolding', () => {
  let dir: string;
  let app: FastifyInstance;
  let kafkaUp = true;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sluice-scaffold-'));
    app = await createService({
      name: 'scaffold-test',
      logger: pino({ level: 'silent' }),
      auditLogPath: path.join(dir, 'audit.log'),
      tokens: { mode: 'tokens', tokens: parseTokenList(`viewer:${VIEWER}`) },
      readinessTimeoutMs: 100,
    });
    app.addReadinessCheck('kafka', async () => {
      if (!kafkaUp) throw new Error('broker unreachable');
    });
    app.addReadinessCheck(
      'slow-store',
      () => new Promise<void>((resolve) => setTimeout(resolve, kafkaUp ? 0 : 1000)),
    );
    app.get(
      '/items/:id',
      {
        config: { role: 'viewer' },
        schema: {
          params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
          response: { 200: { type: 'object', properties: { id: { type: 'integer' } } } },
        },
      },
      async (req) => ({ id: (req.params as { id: number }).id }),
    );
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /readyz 503 naming the failing checks, including timed-out ones', async () => {
    kafkaUp = true;
    const ok = await app.inject('/readyz');
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().status, 'ready');
    kafkaUp = false;
    const bad = await app.inject('/readyz');
    assert.equal(bad.statusCode, 503);
    assert.deepEqual(bad.json().failing, ['kafka', 'slow-store']);
    assert.match(bad.json().checks.find((c: { name: string }) => c.name === 'slow-store').error, /timed out/);
    // Liveness does not depend on readiness.
    assert.equal((await app.inject('/healthz')).statusCode, 200);
    kafkaUp = true;
  });

  it('validates requests by JSON schema with a JSON 400', async () => {
    const res = await app.inject({ url: '/items/zero', headers: auth });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'BAD_REQUEST');
    assert.equal((await app.inject({ url: '/items/7', headers: auth })).json().id, 7);
  });

  it('echoes a sane caller request id and replaces an unsafe one', async () => {
    const given = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'cli-42' } });
    assert.equal(given.headers['x-request-id'], 'cli-42');
    const unsafe = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'a b\u0000c' } });
    assert.match(unsafe.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/);
  });

  it('serves Prometheus text with request durations by route pattern', async () => {
    await app.inject({ url: '/items/9', headers: auth });
    const res = await app.inject({ url: '/metrics', headers: auth });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain/);
    assert.match(
      res.body,
      /sluice_http_request_duration_seconds_count\{[^}]*route="\/items\/:id"[^}]*\} [1-9]/,
    );
    assert.ok(!res.body.includes('route="/items/9"'));
  });

  it('publishes an OpenAPI document with the route schemas and required roles', async () => {
    const doc = (await app.inject({ url: '/openapi.json', headers: auth })).json();
    assert.equal(doc.openapi, '3.0.3');
    const op = doc.paths['/items/{id}'].get;
    assert.equal(op['x-sluice-role'], 'viewer');
    assert.deepEqual(op.security, [{ bearerAuth: [] }]);
    assert.equal(op.parameters[0].schema.minimum, 1);
    assert.equal(doc.paths['/healthz'].get.security, undefined);
    assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
  });
});
