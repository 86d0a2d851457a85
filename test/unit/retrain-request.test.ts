import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseRetrainRequest,
  RetrainRequestError,
  validateRetrainRequest,
} from '../../services/trainer/retrain/retrain-request.js';
import { driftRetrainRequest } from '../../topologies/drift/retrain-request.js';

const valid = {
  requestId: 'req-1',
  model: 'txn-risk',
  modelVersion: '3',
  trigger: 'MANUAL',
  reason: 'because',
  breaches: [],
  trainFrom: null,
  trainTo: null,
  requestedAt: 1_700_000_000_000,
};

const rejects = (value: unknown, code: string, pattern: RegExp) =>
  assert.throws(
    () => (typeof value === 'string' ? parseRetrainRequest(value) : validateRetrainRequest(value)),
    (err: unknown) => {
      assert.ok(err instanceof RetrainRequestError);
      assert.equal(err.code, code);
      assert.match(err.message, pattern);
      return true;
    },
  );

test('a request the drift topology produces round-trips through JSON', () => {
  const produced = driftRetrainRequest('txn-risk', '2', { start: 1000, end: 61_000 }, [
    { feature: 'amount', metric: 'PSI', value: 0.31, threshold: 0.2 },
  ]);
  assert.deepEqual(parseRetrainRequest(Buffer.from(JSON.stringify(produced))), produced);
});

test('fields with an Avro default may be absent and take the default', () => {
  const { breaches: _b, trainFrom: _f, trainTo: _t, ...minimal } = valid;
  const parsed = validateRetrainRequest(minimal);
  assert.deepEqual(parsed.breaches, []);
  assert.equal(parsed.trainFrom, null);
  assert.equal(parsed.trainTo, null);
});

test('unknown fields from a newer schema are tolerated but not passed on', () => {
  const parsed = validateRetrainRequest({ ...valid, priority: 'high' });
  assert.equal('priority' in parsed, false);
});

test('not JSON, empty and tombstone values are refused as NOT_JSON', () => {
  rejects('{"requestId":', 'NOT_JSON', /not JSON/);
  assert.throws(() => parseRetrainRequest(null), /no value/);
  assert.throws(() => parseRetrainRequest(Buffer.alloc(0)), /no value/);
});

test('messages name each invalid field', () => {
  rejects(
    { ...valid, trigger: 'WHIM' },
    'INVALID_RETRAIN_REQUEST',
    /\/trigger must be equal to one of the allowed values \(DRIFT, SCHEDULE, MANUAL\)/,
  );
  rejects({ ...valid, model: '../etc' }, 'INVALID_RETRAIN_REQUEST', /\/model must match pattern/);
  rejects({ ...valid, requestedAt: 'yesterday' }, 'INVALID_RETRAIN_REQUEST', /\/requestedAt must be integer/);
  rejects(
    { ...valid, requestId: undefined },
    'INVALID_RETRAIN_REQUEST',
    /must have required property 'requestId'/,
  );
  rejects(
    { ...valid, breaches: [{ feature: 'amount', metric: 'PSI', value: 'high', threshold: 0.2 }] },
    'INVALID_RETRAIN_REQUEST',
    /\/breaches\/0\/value must be number/,
  );
  rejects([valid], 'INVALID_RETRAIN_REQUEST', /\(record\) must be object/);
});

test('several problems are reported together', () => {
  rejects({ ...valid, model: '', trainTo: -5 }, 'INVALID_RETRAIN_REQUEST', /\/model .*; .*\/trainTo/);
});

test('a window whose start is not before its end is refused', () => {
  rejects(
    { ...valid, trainFrom: 2000, trainTo: 2000 },
    'INVALID_RETRAIN_REQUEST',
    /trainFrom \(2000\) must be before trainTo \(2000\)/,
  );
});
