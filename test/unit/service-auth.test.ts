/** Bearer-token roles on the shared service scaffolding, exercised through real fastify routes. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import {
  createService,
  parseTokenList,
  principalOf,
  RouteWithoutRoleError,
} from '../../services/common/index.js';

const VIEWER = 'v'.repeat(32);
const OPERATOR = 'o'.repeat(32);
const ADMIN = 'a'.repeat(32);
const quiet = pino({ level: 'silent' });

describe('service auth', () => {
  let dir: string;
  let app: FastifyInstance;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sluice-auth-'));
    app = await createService({
      name: 'auth-test',
      logger: quiet,
      auditLogPath: path.join(dir, 'audit.log'),
      tokens: {
        mode: 'tokens',
        tokens: parseTokenList(`viewer:${VIEWER}:vera, operator:${OPERATOR}:otto, admin:${ADMIN}`),
      },
    });
    app.get('/view', { config: { role: 'viewer' } }, async (req) => ({ who: principalOf(req).name }));
    app.post('/operate', { config: { role: 'operator' } }, async (req) => ({ who: principalOf(req).name }));
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (method: 'GET' | 'POST', url: string, token?: string) =>
    app.inject({ method, url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  it('answers 401 with a JSON error when no token is sent', async () => {
    const res = await call('GET', '/view');
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error, 'UNAUTHORIZED');
    assert.match(res.headers['www-authenticate'] as string, /^Bearer/);
  });

  it('answers 401 for a wrong token, including one differing only in its last character', async () => {
    assert.equal((await call('GET', '/view', 'x'.repeat(32))).statusCode, 401);
    assert.equal((await call('GET', '/view', `${VIEWER.slice(0, -1)}w`)).statusCode, 401);
    const basic = await app.inject({
      method: 'GET',
      url: '/view',
      headers: { authorization: `Basic ${VIEWER}` },
    });
    assert.equal(basic.statusCode, 401);
  });

  it('answers 403 when a viewer calls an operator route', async () => {
    const res = await call('POST', '/operate', VIEWER);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error, 'FORBIDDEN');
    assert.match(res.json().message, /operator/);
  });

  it('lets each role through routes at or below it and names the caller', async () => {
    assert.deepEqual((await call('GET', '/view', VIEWER)).json(), { who: 'vera' });
    assert.deepEqual((await call('POST', '/operate', OPERATOR)).json(), { who: 'otto' });
    const admin = await call('POST', '/operate', ADMIN);
    assert.equal(admin.statusCode, 200);
    // An unnamed token gets a fingerprint name that does not contain the token.
    const name = admin.json().who as string;
    assert.match(name, /^admin-[0-9a-f]{8}$/);
    assert.ok(!ADMIN.includes(name.slice(6)));
  });

  it('keeps health public and protects metrics and the OpenAPI document', async () => {
    assert.equal((await call('GET', '/healthz')).statusCode, 200);
    assert.equal((await call('GET', '/readyz')).statusCode, 200);
    assert.equal((await call('GET', '/metrics')).statusCode, 401);
    assert.equal((await call('GET', '/openapi.json')).statusCode, 401);
    assert.equal((await call('GET', '/metrics', VIEWER)).statusCode, 200);
    assert.equal((await call('GET', '/openapi.json', VIEWER)).statusCode, 200);
  });

  it('refuses to register a route that declares no role (fail closed)', async () => {
    const bare = await createService({
      name: 'bare',
      logger: quiet,
      auditLogPath: path.join(dir, 'bare.log'),
      tokens: { mode: 'tokens', tokens: parseTokenList(`viewer:${VIEWER}`) },
    });
    try {
      assert.throws(() => bare.get('/open', async () => 'oops'), RouteWithoutRoleError);
      assert.throws(
        // A misspelt role is no role.
        () => bare.get('/typo', { config: { role: 'viewers' as 'viewer' } }, async () => 'oops'),
        /declares no role/,
      );
    } finally {
      await bare.close();
    }
  });

  it('treats every caller as admin only when SLUICE_INSECURE_NO_AUTH mode is chosen', async () => {
    const open = await createService({
      name: 'open',
      logger: quiet,
      auditLogPath: path.join(dir, 'open.log'),
      tokens: { mode: 'insecure-no-auth' },
    });
    open.post('/operate', { config: { role: 'admin' } }, async (req) => ({ who: principalOf(req).name }));
    try {
      const res = await open.inject({ method: 'POST', url: '/operate' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().who, 'insecure-no-auth');
    } finally {
      await open.close();
    }
  });
});
