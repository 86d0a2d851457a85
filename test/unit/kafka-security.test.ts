/** KAFKA_SECURITY_PROTOCOL and its companions: what a deployment gets, and each misconfiguration's message. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../connectors/config/endpoints.js';
import { loadKafkaSecurity } from '../../connectors/config/kafka-security.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sluice-kafka-security-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const passwordFile = file('password', 's3cret-from-a-file\n');
const caFile = file('ca.pem', 'CA PEM');
const certFile = file('client.crt', 'CERT PEM');
const keyFile = file('client.key', 'KEY PEM');

const refused = (env: NodeJS.ProcessEnv, message: RegExp) =>
  assert.throws(
    () => loadKafkaSecurity(env),
    (err: unknown) => err instanceof ConfigError && message.test(err.message),
  );

test('nothing set is PLAINTEXT without TLS or SASL', () => {
  assert.deepEqual(loadKafkaSecurity({}), { protocol: 'PLAINTEXT' });
});

test('SASL_SSL with SCRAM reads the password file (without its trailing newline) and the CA', () => {
  const security = loadKafkaSecurity({
    KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: 'svc',
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
    KAFKA_SSL_CA_FILE: caFile,
  });
  assert.deepEqual(security, {
    protocol: 'SASL_SSL',
    ssl: { ca: 'CA PEM' },
    sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 's3cret-from-a-file' },
  });
});

test('SSL with a client certificate is mutual TLS; without a CA file the system CAs are trusted', () => {
  const security = loadKafkaSecurity({
    KAFKA_SECURITY_PROTOCOL: 'SSL',
    KAFKA_SSL_CERT_FILE: certFile,
    KAFKA_SSL_KEY_FILE: keyFile,
  });
  assert.deepEqual(security, { protocol: 'SSL', ssl: { cert: 'CERT PEM', key: 'KEY PEM' } });
});

test('each misconfiguration names what to fix', () => {
  refused({ KAFKA_SECURITY_PROTOCOL: 'SASL-SSL' }, /not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/);
  refused(
    { KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'x' },
    /KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use them; set KAFKA_SECURITY_PROTOCOL=SASL_SSL/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SSL_CA_FILE: caFile, KAFKA_SASL_MECHANISM: 'PLAIN' },
    /KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT does not use it; set KAFKA_SECURITY_PROTOCOL=SASL_SSL/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' },
    /KAFKA_SASL_MECHANISM=\(unset\) is not supported; set one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/,
  );
  refused({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'GSSAPI' }, /GSSAPI is not supported/);
  refused(
    { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'PLAIN' },
    /needs KAFKA_SASL_USERNAME/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'svc' },
    /needs a password: KAFKA_SASL_PASSWORD_FILE/,
  );
  refused(
    {
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'a',
      KAFKA_SASL_PASSWORD_FILE: passwordFile,
    },
    /not both/,
  );
  const missing = path.join(dir, 'nope');
  refused(
    {
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD_FILE: missing,
    },
    new RegExp(`KAFKA_SASL_PASSWORD_FILE=${missing} cannot be read \\(ENOENT\\)`),
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: certFile },
    /needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_KEY_PASSWORD_FILE: passwordFile },
    /without KAFKA_SSL_KEY_FILE/,
  );
});

test('OAUTHBEARER reads the token file at every authentication, so a renewed token needs no restart', async () => {
  const tokenFile = file('token', 'token-one\n');
  const security = loadKafkaSecurity({
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
    KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: tokenFile,
  });
  const sasl = security.sasl as { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> };
  assert.equal(sasl.mechanism, 'oauthbearer');
  assert.deepEqual(await sasl.oauthBearerProvider(), { value: 'token-one' });
  writeFileSync(tokenFile, 'token-two');
  assert.deepEqual(await sasl.oauthBearerProvider(), { value: 'token-two' });
  writeFileSync(tokenFile, '');
  await assert.rejects(sasl.oauthBearerProvider(), /is empty; it must hold the current OAuth bearer token/);
});

test('OAUTHBEARER misconfigurations name the variable to fix', () => {
  const oauth = { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'OAUTHBEARER' };
  refused(oauth, /needs KAFKA_SASL_OAUTHBEARER_TOKEN_FILE/);
  refused(
    { ...oauth, KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: path.join(dir, 'missing') },
    /cannot be read \(ENOENT\)/,
  );
  refused({ ...oauth, KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: file('empty-token', '\n') }, /is empty/);
  refused(
    { ...oauth, KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: file('t', 'x'), KAFKA_SASL_USERNAME: 'svc' },
    /KAFKA_SASL_USERNAME is set but KAFKA_SASL_MECHANISM=OAUTHBEARER authenticates with a token only/,
  );
  refused(
    {
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'p',
      KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: file('t2', 'x'),
    },
    /KAFKA_SASL_OAUTHBEARER_TOKEN_FILE is set but KAFKA_SASL_MECHANISM=PLAIN does not use it/,
  );
  refused(
    { KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: file('t3', 'x') },
    /KAFKA_SASL_OAUTHBEARER_TOKEN_FILE is set but KAFKA_SECURITY_PROTOCOL=SSL does not use it/,
  );
});

test('OAUTHBEARER client credentials: the token endpoint and client are checked at start', () => {
  const oauth = { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'OAUTHBEARER' };
  const client = {
    ...oauth,
    KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL: 'https://issuer.example/oauth2/token',
    KAFKA_SASL_OAUTHBEARER_CLIENT_ID: 'sluice-worker',
    KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE: passwordFile,
  };
  const sasl = loadKafkaSecurity(client).sasl as { mechanism: string; oauthBearerProvider?: unknown };
  assert.equal(sasl.mechanism, 'oauthbearer');
  assert.equal(typeof sasl.oauthBearerProvider, 'function');
  // Loopback may be plain http (a local sidecar); anything else must be https.
  loadKafkaSecurity({ ...client, KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL: 'http://127.0.0.1:9/token' });
  refused(
    { ...client, KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL: 'http://issuer.example/oauth2/token' },
    /must be https \(the client secret is sent to it\); plain http is allowed on loopback only/,
  );
  refused(
    { ...client, KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL: 'issuer.example/token' },
    /issuer.example\/token is not a URL/,
  );
  refused(
    { ...client, KAFKA_SASL_OAUTHBEARER_CLIENT_ID: undefined },
    /needs KAFKA_SASL_OAUTHBEARER_CLIENT_ID and KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE/,
  );
  refused(
    { ...client, KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE: undefined },
    /needs KAFKA_SASL_OAUTHBEARER_CLIENT_ID and KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE/,
  );
  refused(
    { ...client, KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET: 'inline' },
    /set KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE or KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET, not both/,
  );
  refused({ ...client, KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: file('t4', 'x') }, /not both/);
  refused(
    { ...oauth, KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: file('t5', 'x'), KAFKA_SASL_OAUTHBEARER_SCOPE: 'kafka' },
    /KAFKA_SASL_OAUTHBEARER_SCOPE is set but KAFKA_SASL_OAUTHBEARER_TOKEN_FILE is read as the token/,
  );
  refused(
    {
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'p',
      KAFKA_SASL_OAUTHBEARER_CLIENT_ID: 'sluice-worker',
    },
    /KAFKA_SASL_OAUTHBEARER_CLIENT_ID is set but KAFKA_SASL_MECHANISM=SCRAM-SHA-256 does not use it/,
  );
});
