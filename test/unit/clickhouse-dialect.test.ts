import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dialectFromVersion } from '../../connectors/clickhouse/dialect.js';

describe('ClickHouse dialect from version()', () => {
  it('marks Debian 18.16 as legacy with none of the post-2018 features', () => {
    const d = dialectFromVersion('18.16.1');
    assert.equal(d.legacy, true);
    assert.deepEqual(
      Object.entries(d.features).filter(([, on]) => on),
      [],
    );
  });

  it('gives a current engine (chdb 3.4 = 26.7) every feature', () => {
    const d = dialectFromVersion('26.7.2.1');
    assert.equal(d.major, 26);
    assert.equal(d.legacy, false);
    assert.ok(Object.values(d.features).every(Boolean));
  });

  it('switches each feature on at its release, comparing minor versions numerically', () => {
    assert.equal(dialectFromVersion('19.5.3').features.ttl, false);
    assert.equal(dialectFromVersion('19.6.1').features.ttl, true);
    assert.equal(dialectFromVersion('19.13.1').features.asofJoin, true);
    // 19.9 < 19.13 even though "9" > "1" as text.
    assert.equal(dialectFromVersion('19.9.9').features.asofJoin, false);
    const d = dialectFromVersion('21.11.4');
    assert.equal(d.features.asyncInsert, true);
    assert.equal(d.features.insertDeduplicationToken, false);
  });

  it('rejects text that is not a version', () => {
    assert.throws(() => dialectFromVersion('unknown'), /cannot read a ClickHouse version/);
  });
});
