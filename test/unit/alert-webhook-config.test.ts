/** Webhook configuration fails fast, saying how to fix it; secrets come from a file or the environment. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadWebhookConfig } from '../../services/alerts/webhook-config.js';

const SECRET = '0123456789abcdef0123456789abcdef';

test('reads receivers, secrets (file wins, one per line) and the minimum severity', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'webhook-'));
  const file = path.join(dir, 'webhook.secret');
  writeFileSync(file, `${SECRET}\n${SECRET.toUpperCase()}\n`);
  const config = loadWebhookConfig({
    SLUICE_WEBHOOK_URLS: 'https://hooks.example.com/a, http://127.0.0.1:9/b',
    SLUICE_WEBHOOK_SECRET_FILE: file,
    SLUICE_WEBHOOK_SECRET: 'ignored-because-the-file-wins-xxxxxxxx',
    SLUICE_WEBHOOK_MIN_SEVERITY: 'critical',
  });
  assert.deepEqual(
    config.urls.map((u) => u.href),
    ['https://hooks.example.com/a', 'http://127.0.0.1:9/b'],
  );
  assert.deepEqual(config.secrets, [SECRET, SECRET.toUpperCase()]);
  assert.equal(config.minSeverity, 'CRITICAL');
  assert.equal(
    loadWebhookConfig({ SLUICE_WEBHOOK_URLS: 'https://h.example', SLUICE_WEBHOOK_SECRET: SECRET })
      .minSeverity,
    'WARNING',
  );
});

test('bad configuration fails with a message that names the fix', () => {
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [{ SLUICE_WEBHOOK_SECRET: SECRET }, /SLUICE_WEBHOOK_URLS is empty/],
    [{ SLUICE_WEBHOOK_URLS: 'not a url', SLUICE_WEBHOOK_SECRET: SECRET }, /not a URL/],
    [{ SLUICE_WEBHOOK_URLS: 'http://hooks.example.com', SLUICE_WEBHOOK_SECRET: SECRET }, /must use https/],
    [{ SLUICE_WEBHOOK_URLS: 'https://h.example' }, /openssl rand -hex 32/],
    [{ SLUICE_WEBHOOK_URLS: 'https://h.example', SLUICE_WEBHOOK_SECRET: 'short' }, /at least 32/],
    [
      { SLUICE_WEBHOOK_URLS: 'https://h.example', SLUICE_WEBHOOK_SECRET_FILE: '/nonexistent/secret' },
      /cannot be read/,
    ],
    [
      {
        SLUICE_WEBHOOK_URLS: 'https://h.example',
        SLUICE_WEBHOOK_SECRET: SECRET,
        SLUICE_WEBHOOK_MIN_SEVERITY: 'LOUD',
      },
      /INFO, WARNING, CRITICAL/,
    ],
  ];
  for (const [env, message] of cases) assert.throws(() => loadWebhookConfig(env), message);
});
