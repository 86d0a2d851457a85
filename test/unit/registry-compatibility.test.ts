import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import {
  canRead,
  checkCompatibility,
  parseCompatibilityLevel,
  type CompatibilityLevel,
} from '../../services/registry/compatibility.js';
import { RegistryError } from '../../services/registry/errors.js';

const record = (fields: object[], extra: object = {}) =>
  avro.Type.forSchema({ type: 'record', name: 'Payment', namespace: 'a.b', fields, ...extra } as avro.Schema);

const id = { name: 'id', type: 'string' };
const base = record([id]);
const withOptional = record([id, { name: 'amount', type: 'double', default: 0 }]);
const withRequired = record([id, { name: 'amount', type: 'double' }]);
const versions = (...types: avro.Type[]) => types.map((type, i) => ({ version: i + 1, type }));

describe('canRead (Avro schema resolution)', () => {
  it('needs a default for a field the writer lacks', () => {
    assert.equal(canRead(withOptional, base), null);
    assert.notEqual(canRead(withRequired, base), null);
  });
  it('ignores writer fields the reader drops', () => {
    assert.equal(canRead(base, withRequired), null);
  });
  it('allows numeric promotion only upwards', () => {
    const asInt = record([{ name: 'n', type: 'int' }]);
    const asLong = record([{ name: 'n', type: 'long' }]);
    assert.equal(canRead(asLong, asInt), null);
    assert.notEqual(canRead(asInt, asLong), null);
  });
  it('needs every writer enum symbol, unless the reader has an enum default', () => {
    const en = (symbols: string[], extra = {}) =>
      record([{ name: 'e', type: { type: 'enum', name: 'E', symbols, ...extra } }]);
    assert.notEqual(canRead(en(['A']), en(['A', 'B'])), null);
    assert.equal(canRead(en(['A'], { default: 'A' }), en(['A', 'B'])), null);
  });
  it('compares unqualified names, as Java does', () => {
    const other = avro.Type.forSchema({ type: 'record', name: 'Payment', namespace: 'x.y', fields: [id] });
    const renamed = avro.Type.forSchema({ type: 'record', name: 'Refund', namespace: 'a.b', fields: [id] });
    assert.equal(canRead(other, base), null);
    assert.notEqual(canRead(renamed, base), null);
  });
});

describe('checkCompatibility levels', () => {
  const check = (candidate: avro.Type, existing: avro.Type[], level: CompatibilityLevel) =>
    checkCompatibility(candidate, versions(...existing), level).compatible;

  it('NONE accepts anything; an empty subject accepts anything', () => {
    assert.equal(check(record([{ name: 'x', type: 'int' }]), [base], 'NONE'), true);
    assert.equal(check(withRequired, [], 'FULL_TRANSITIVE'), true);
  });

  it('BACKWARD: the new schema must read the latest', () => {
    assert.equal(check(withOptional, [base], 'BACKWARD'), true);
    assert.equal(check(withRequired, [base], 'BACKWARD'), false);
    assert.equal(check(base, [withRequired], 'BACKWARD'), true); // dropping a field is backward compatible
  });

  it('FORWARD: the latest must read the new schema', () => {
    assert.equal(check(withRequired, [base], 'FORWARD'), true); // old readers ignore the new field
    assert.equal(check(base, [withRequired], 'FORWARD'), false); // old readers need the dropped field
  });

  it('FULL: both directions', () => {
    assert.equal(check(withOptional, [base], 'FULL'), true);
    assert.equal(check(withRequired, [base], 'FULL'), false);
    assert.equal(check(base, [withRequired], 'FULL'), false);
  });

  // v1 {id}, v2 {id, amount=0}, v3 {id, amount (required)}: v3 reads v2 but not v1.
  it('BACKWARD checks only the latest; BACKWARD_TRANSITIVE checks all', () => {
    assert.equal(check(withRequired, [base, withOptional], 'BACKWARD'), true);
    assert.equal(check(withRequired, [base, withOptional], 'BACKWARD_TRANSITIVE'), false);
  });

  it('FORWARD_TRANSITIVE checks every earlier reader', () => {
    // v1 {id, amount required}, v2 {id, amount=0}; candidate drops amount: v2 can read it, v1 cannot.
    assert.equal(check(base, [withRequired, withOptional], 'FORWARD'), true);
    assert.equal(check(base, [withRequired, withOptional], 'FORWARD_TRANSITIVE'), false);
  });

  it('FULL_TRANSITIVE checks both directions against all', () => {
    assert.equal(check(withOptional, [base, withOptional], 'FULL_TRANSITIVE'), true);
    assert.equal(check(withRequired, [base, withOptional], 'FULL'), true);
    assert.equal(check(withRequired, [base, withOptional], 'FULL_TRANSITIVE'), false);
  });

  it('says which version and direction failed', () => {
    const result = checkCompatibility(withRequired, versions(base, withOptional), 'BACKWARD_TRANSITIVE');
    assert.equal(result.messages.length, 1);
    assert.match(result.messages[0]!, /version 1/);
  });
});

describe('parseCompatibilityLevel', () => {
  it('accepts any case and rejects unknown levels with 42203', () => {
    assert.equal(parseCompatibilityLevel('full_transitive'), 'FULL_TRANSITIVE');
    for (const bad of ['SIDEWAYS', undefined, 3]) {
      assert.throws(
        () => parseCompatibilityLevel(bad),
        (err: unknown) => err instanceof RegistryError && err.errorCode === 42203 && err.status === 422,
      );
    }
  });
});
