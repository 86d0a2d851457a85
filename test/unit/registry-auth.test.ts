import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../connectors/config/endpoints.js';
import { registryAuthFromEnv } from '../../connectors/schema-registry/client.js';
import { isAuthorized, parseCredentials } from '../../services/registry/basic-auth.js';

const basic = (userInfo: string) => `Basic ${Buffer.from(userInfo).toString('base64')}`;

describe('registry basic auth', () => {
  const creds = parseCredentials('# team\nalice:s3cret:with:colons\n\nbob:pw\n', 'test');

  it('accepts listed users with their exact password', () => {
    assert.equal(isAuthorized(basic('alice:s3cret:with:colons'), creds), true);
    assert.equal(isAuthorized(basic('bob:pw'), creds), true);
  });

  it('refuses wrong, missing and malformed credentials', () => {
    for (const header of [
      undefined,
      '',
      basic('bob:PW'),
      basic('carol:pw'),
      basic('bob'),
      'Bearer abc',
      'Basic !!!',
    ]) {
      assert.equal(isAuthorized(header, creds), false, String(header));
    }
  });

  it('fails fast on a bad credentials file, naming the line', () => {
    assert.throws(
      () => parseCredentials('alice:ok\nnocolon\n', 'f'),
      (e: unknown) => e instanceof ConfigError && /line 2/.test(e.message),
    );
    assert.throws(() => parseCredentials('# nothing\n', 'f'), ConfigError);
  });

  it('reads client credentials from SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO', () => {
    assert.deepEqual(registryAuthFromEnv({ SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: 'u:p:q' }), {
      username: 'u',
      password: 'p:q',
    });
    assert.equal(registryAuthFromEnv({}), undefined);
    assert.throws(
      () => registryAuthFromEnv({ SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO: 'nopassword' }),
      ConfigError,
    );
  });
});
