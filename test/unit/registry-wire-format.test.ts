import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeHeader, readSchemaId, SerdeError } from '../../connectors/schema-registry/index.js';

const codeOf = (payload: Buffer | null): string => {
  try {
    readSchemaId(payload);
  } catch (err) {
    assert.ok(err instanceof SerdeError);
    return err.code;
  }
  return 'none';
};

describe('Confluent wire-format header', () => {
  it('writes magic byte 0 and a big-endian id', () => {
    assert.deepEqual([...encodeHeader(0x01020304)], [0, 1, 2, 3, 4]);
    assert.equal(readSchemaId(Buffer.concat([encodeHeader(258), Buffer.from([7])])), 258);
  });

  it('classifies bad headers', () => {
    assert.equal(codeOf(null), 'EMPTY_PAYLOAD');
    assert.equal(codeOf(Buffer.alloc(0)), 'EMPTY_PAYLOAD');
    assert.equal(codeOf(Buffer.from([1, 0, 0, 0, 1])), 'BAD_MAGIC_BYTE');
    assert.equal(codeOf(Buffer.from([1])), 'BAD_MAGIC_BYTE');
    assert.equal(codeOf(Buffer.from([0, 0, 0, 1])), 'TRUNCATED_HEADER');
    assert.equal(codeOf(Buffer.from([0, 0, 0, 0, 1])), 'none'); // a header alone is a valid frame
  });

  it('marks only registry unavailability as transient', () => {
    assert.equal(new SerdeError('REGISTRY_UNAVAILABLE', 'x').transient, true);
    assert.equal(new SerdeError('UNKNOWN_SCHEMA_ID', 'x').transient, false);
  });
});
