/** Token configuration: file and env formats, and refusing to start without tokens. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import {
  AuthConfigError,
  createService,
  loadAuthConfig,
  parseTokenFile,
  parseTokenList,
} from '../../services/common/index.js';

const T1 = '0123456789abcdef0123456789abcdef';
const T2 = 'fedcba9876543210fedcba9876543210';

describe('token configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sluice-tokens-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('parses role:token[:name] lines, skipping comments and blank lines', () => {
    const entries = parseTokenFile(`# ops tokens\n\nviewer:${T1}:grafana  # scraper\r\n  admin:${T2}\n`);
    assert.deepEqual(
      entries.map((e) => [e.role, e.name.startsWith('admin-') ? 'admin-*' : e.name]),
      [
        ['viewer', 'grafana'],
        ['admin', 'admin-*'],
      ],
    );
    // Only digests are kept.
    assert.ok(entries.every((e) => e.digest.length === 32 && !e.digest.toString('hex').includes(T1)));
  });

  it('names the bad line and the fix for malformed entries, without echoing the token', () => {
    assert.throws(
      () => parseTokenFile(`viewer:${T1}\nroot:${T2}`),
      (err: Error) => {
        assert.ok(err instanceof AuthConfigError);
        assert.match(err.message, /line 2: role "root" is not one of viewer, operator, admin/);
        assert.ok(!err.message.includes(T2));
        return true;
      },
    );
    assert.throws(
      () => parseTokenList('viewer:short'),
      /shorter than 16 characters; generate a token with `openssl rand -hex 32`/,
    );
    assert.throws(() => parseTokenList(`viewer:${T1}:a:b`), /entry 1: expected role:token\[:name\]/);
    assert.throws(() => parseTokenList(`viewer:${T1}:bad name`), /name "bad name"/);
  });

  it('loads from SLUICE_TOKENS_FILE and SLUICE_TOKENS together', async () => {
    const file = path.join(dir, 'tokens');
    await writeFile(file, `operator:${T1}:deployer\n`);
    const config = loadAuthConfig({ SLUICE_TOKENS_FILE: file, SLUICE_TOKENS: `viewer:${T2}:dash` });
    assert.equal(config.mode, 'tokens');
    assert.deepEqual(config.mode === 'tokens' && config.tokens.map((t) => `${t.role}/${t.name}`), [
      'operator/deployer',
      'viewer/dash',
    ]);
  });

  it('fails with the fix when SLUICE_TOKENS_FILE cannot be read', () => {
    assert.throws(
      () => loadAuthConfig({ SLUICE_TOKENS_FILE: path.join(dir, 'missing') }),
      /SLUICE_TOKENS_FILE=.*missing cannot be read \(ENOENT\)/,
    );
  });

  it('refuses to start without tokens, naming both env vars and how to make a token', async () => {
    for (const env of [{}, { SLUICE_TOKENS: ' , # nothing' }, { SLUICE_INSECURE_NO_AUTH: 'true' }]) {
      assert.throws(
        () => loadAuthConfig(env),
        (err: Error) => {
          assert.ok(err instanceof AuthConfigError);
          assert.match(err.message, /SLUICE_TOKENS_FILE/);
          assert.match(err.message, /SLUICE_TOKENS\b/);
          assert.match(err.message, /openssl rand -hex 32/);
          return true;
        },
      );
    }
    assert.deepEqual(loadAuthConfig({ SLUICE_INSECURE_NO_AUTH: '1' }), { mode: 'insecure-no-auth' });

    // createService reads process.env when no tokens are passed: it must throw before listening.
    const saved = { ...process.env };
    delete process.env.SLUICE_TOKENS;
    delete process.env.SLUICE_TOKENS_FILE;
    delete process.env.SLUICE_INSECURE_NO_AUTH;
    try {
      await assert.rejects(
        createService({
          name: 'x',
          logger: pino({ level: 'silent' }),
          auditLogPath: path.join(dir, 'a.log'),
        }),
        AuthConfigError,
      );
    } finally {
      Object.assign(process.env, saved);
    }
  });
});
