import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  FeatureRowError,
  decodeFeatureHash,
  encodeFeatureValues,
  featureKey,
} from '../../connectors/redis/feature-hash.js';
import { parseClusterNodes } from '../../connectors/redis/redis-client.js';
import { ConfigError } from '../../connectors/config/endpoints.js';

/** What the Lua script stores for a row: its pairs plus the reserved fields. */
function storedHash(pairs: string[], version: number): Record<string, string> {
  const hash: Record<string, string> = { __v: String(version), __ts: '123' };
  for (let i = 0; i < pairs.length; i += 2) hash[pairs[i] as string] = pairs[i + 1] as string;
  return hash;
}

describe('feature hash layout', () => {
  it('puts the entity in the cluster hash tag', () => {
    const key = featureKey('sluice:fv', 'card_1m', 'card:42');
    assert.equal(key, 'sluice:fv:card_1m:{card:42}');
    // Redis Cluster hashes only what is between the first { and the next }.
    const tag = key.slice(key.indexOf('{') + 1, key.indexOf('}', key.indexOf('{')));
    assert.equal(tag, 'card:42');
  });

  it('rejects views and entities that would break the key', () => {
    assert.throws(() => featureKey('p', 'v{x}', 'e'), FeatureRowError);
    assert.throws(() => featureKey('p', '', 'e'), FeatureRowError);
    assert.throws(() => featureKey('p', 'v', ''), FeatureRowError);
  });

  it('round-trips every double, including -0, NaN and infinities', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), fc.double()), (values) => {
        const pairs = encodeFeatureValues({ view: 'v', entity: 'e', version: 5, values });
        const decoded = decodeFeatureHash(storedHash(pairs, 5));
        assert.ok(decoded);
        assert.equal(Object.keys(decoded.values).length, Object.keys(values).length);
        for (const [name, value] of Object.entries(values)) assert.ok(Object.is(decoded.values[name], value));
      }),
    );
  });

  it('omits null features and reads an empty hash as a missing entity', () => {
    const pairs = encodeFeatureValues({ view: 'v', entity: 'e', version: 9, values: { a: 1, b: null } });
    assert.deepEqual(pairs, ['a', '1']);
    assert.equal(decodeFeatureHash({}), null);
    assert.deepEqual(decodeFeatureHash({ __v: '9', __ts: '10', a: '1' }), {
      values: { a: 1 },
      version: 9,
      writtenAt: 10,
    });
  });

  it('rejects bad rows with a message naming the row', () => {
    const row = { view: 'v', entity: 'e7', version: 1, values: {} };
    assert.throws(() => encodeFeatureValues({ ...row, version: 1.5 }), /entity "e7": version/);
    assert.throws(() => encodeFeatureValues({ ...row, version: -1 }), FeatureRowError);
    assert.throws(() => encodeFeatureValues({ ...row, values: { __v: 3 } }), /reserved/);
    assert.throws(
      () => encodeFeatureValues({ ...row, values: { a: '3' as never } }),
      /must be a number or null/,
    );
    assert.throws(() => encodeFeatureValues({ ...row, values: null as never }), FeatureRowError);
  });
});

describe('REDIS_CLUSTER_NODES', () => {
  it('parses host:port lists', () => {
    assert.deepEqual(parseClusterNodes(' 10.0.0.1:7000, redis-2:7001 '), [
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2', port: 7001 },
    ]);
  });

  it('fails fast with the expected format on bad values', () => {
    assert.throws(() => parseClusterNodes(''), ConfigError);
    assert.throws(() => parseClusterNodes('10.0.0.1'), /must be host:port/);
    assert.throws(() => parseClusterNodes('a:70000'), /must be host:port/);
  });
});
