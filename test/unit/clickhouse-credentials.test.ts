/** The ClickHouse password comes from a mounted file (CLICKHOUSE_PASSWORD_FILE) or the environment. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadEndpoints } from '../../connectors/config/endpoints.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sluice-clickhouse-credentials-'));
const passwordFile = path.join(dir, 'password');
writeFileSync(passwordFile, 'from-the-secret\n');
const server = { CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_USER: 'sluice' };
const passwordOf = (env: NodeJS.ProcessEnv) => {
  const { clickhouse } = loadEndpoints(env);
  return clickhouse.mode === 'http' ? clickhouse.password : undefined;
};

test('the password file is read without its trailing newline; the variable still works', () => {
  assert.equal(passwordOf({ ...server, CLICKHOUSE_PASSWORD_FILE: passwordFile }), 'from-the-secret');
  assert.equal(passwordOf({ ...server, CLICKHOUSE_PASSWORD: 'inline' }), 'inline');
  assert.equal(passwordOf(server), '', 'no password: the passwordless default user');
});

test('an unreadable file, or both ways at once, fails at start naming the variable', () => {
  assert.throws(
    () => loadEndpoints({ ...server, CLICKHOUSE_PASSWORD_FILE: path.join(dir, 'missing') }),
    (err: Error) =>
      err instanceof ConfigError && /CLICKHOUSE_PASSWORD_FILE=.* cannot be read \(ENOENT\)/.test(err.message),
  );
  assert.throws(
    () => loadEndpoints({ ...server, CLICKHOUSE_PASSWORD_FILE: passwordFile, CLICKHOUSE_PASSWORD: 'x' }),
    (err: Error) => err instanceof ConfigError && /not both/.test(err.message),
  );
});

test('the embedded store ignores the server credentials (no file is read without CLICKHOUSE_URL)', () => {
  assert.equal(
    loadEndpoints({ CLICKHOUSE_PASSWORD_FILE: path.join(dir, 'missing') }).clickhouse.mode,
    'embedded',
  );
});
