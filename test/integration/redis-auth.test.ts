/**
 * A Redis that requires a password (a private redis-server with --requirepass): the online store's client
 * authenticates with the password from REDIS_PASSWORD_FILE, a client without it is refused by the server,
 * and a password given twice (file and URL) fails at start.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../connectors/config/endpoints.js';
import { createRedisClient } from '../../connectors/redis/redis-client.js';
import { freePort } from '../support/free-port.js';
import { until } from '../support/until.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-redis-auth-'));
const password = `pw-${process.pid}-${Date.now()}`;
const passwordFile = path.join(dir, 'password');
writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
let server: ChildProcess;
let url: string;

before(async () => {
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--requirepass', password],
    { stdio: 'ignore' },
  );
  await until(
    'the private redis-server',
    async () => {
      const probe = createRedisClient({ REDIS_URL: url, REDIS_PASSWORD_FILE: passwordFile });
      try {
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    },
    { timeoutMs: 15_000, everyMs: 200 },
  );
});

after(() => {
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('the password file authenticates; no password is refused by the server', async () => {
  const client = createRedisClient({ REDIS_URL: url, REDIS_PASSWORD_FILE: passwordFile });
  try {
    await client.hset('sluice-test:auth', { v: '1' });
    assert.deepEqual(await client.hgetall('sluice-test:auth'), { v: '1' });
  } finally {
    client.disconnect();
  }
  const anonymous = createRedisClient({ REDIS_URL: url }, { commandTimeoutMs: 2000 });
  try {
    await assert.rejects(anonymous.hgetall('sluice-test:auth'), /NOAUTH/);
  } finally {
    anonymous.disconnect();
  }
});

test('a password in both REDIS_URL and REDIS_PASSWORD_FILE fails at start', () => {
  assert.throws(
    () => createRedisClient({ REDIS_URL: url.replace('//', '//:other@'), REDIS_PASSWORD_FILE: passwordFile }),
    (err: Error) => err instanceof ConfigError && /keep one of them/.test(err.message),
  );
});
