import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FileModelRegistry } from '../../connectors/model-registry/file-model-registry.js';
import type { RetrainRequestRecord } from '../../schemas/index.js';
import { buildReferenceModel } from '../../services/trainer/build-reference-model.js';
import {
  loggedTrainingSetSql,
  resolveTrainingWindow,
} from '../../services/trainer/retrain/logged-training-set.js';
import {
  nextVersion,
  RetrainRefusedError,
  retrainModel,
} from '../../services/trainer/retrain/retrain-model.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'retrain-model-'));
const registry = new FileModelRegistry({ root: path.join(dir, 'models') });
const DAY = 24 * 3600 * 1000;

/** ClickHouse must not be reached: the duplicate check comes before any query. */
const unreachable = {
  query: () => Promise.reject(new Error('ClickHouse was queried')),
} as unknown as Parameters<typeof retrainModel>[0]['clickhouse'];
/** Stands in for a ClickHouse whose window holds no labelled served predictions. */
const emptyWindow = {
  query: () => Promise.resolve({ json: () => Promise.resolve([]) }),
} as unknown as Parameters<typeof retrainModel>[0]['clickhouse'];

const request = (requestId: string, over: Partial<RetrainRequestRecord> = {}): RetrainRequestRecord => ({
  requestId,
  model: 'm',
  modelVersion: '1',
  trigger: 'DRIFT',
  reason: 'test',
  breaches: [],
  trainFrom: null,
  trainTo: null,
  requestedAt: 30 * DAY,
  ...over,
});

before(async () => {
  const built = await buildReferenceModel({
    outDir: path.join(dir, 'v1'),
    rows: 800,
    name: 'm',
    version: '1',
  });
  await registry.registerFromDirectory(path.join(dir, 'v1'), { stage: 'champion' });
  // v7 was trained for request "answered" (lineage only matters here, so v1's bytes are reused).
  const bytes = await readFile(built.modelPath);
  await registry.register(
    {
      ...built.candidate,
      version: '7',
      trainedFor: { requestId: 'answered', trigger: 'DRIFT', basedOn: '1' },
    },
    bytes,
  );
  await registry.register({ ...built.candidate, version: 'exp-12' }, bytes);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the next version is the highest numeric one plus one, ignoring non-numeric versions', () => {
  assert.equal(nextVersion([]), '1');
  assert.equal(nextVersion(['1', '2']), '3');
  assert.equal(nextVersion(['9', '10', '2']), '11', 'numeric, not lexicographic');
  assert.equal(nextVersion(['3', 'exp-12', 'v20']), '4');
});

test('a request an existing version was trained for returns that version without training', async () => {
  const result = await retrainModel({ registry, clickhouse: unreachable }, request('answered'));
  assert.equal(result.outcome, 'duplicate');
  assert.equal(result.version, '7');
  assert.deepEqual(readdirSync(path.join(dir, 'models', 'm')).sort(), ['1', '7', 'exp-12']);
});

test('a new request reaches the training set and is refused when the window holds too few rows', async () => {
  await assert.rejects(
    retrainModel({ registry, clickhouse: emptyWindow }, request('fresh')),
    (err: unknown) => {
      assert.ok(err instanceof RetrainRefusedError);
      assert.equal(err.code, 'TOO_FEW_ROWS');
      assert.match(err.message, /only 0 usable .* \(need 500;/);
      assert.match(
        err.message,
        /1970-01-24T00:00:00.000Z\.\.1970-01-31T00:00:00.000Z/,
        'default: 7 days before requestedAt',
      );
      return true;
    },
  );
  await assert.rejects(
    retrainModel({ registry, clickhouse: unreachable }, request('fresh')),
    /ClickHouse was queried/,
  );
});

test('an unknown model is refused with UNKNOWN_MODEL', async () => {
  await assert.rejects(
    retrainModel({ registry, clickhouse: unreachable }, request('x', { model: 'nobody' })),
    (err: unknown) =>
      err instanceof RetrainRefusedError &&
      err.code === 'UNKNOWN_MODEL' &&
      /not registered/.test(err.message),
  );
});

test('the training window: explicit bounds, defaults from requestedAt, clamped at the epoch', () => {
  assert.deepEqual(resolveTrainingWindow({ trainFrom: 5, trainTo: 9, requestedAt: 100 }), { from: 5, to: 9 });
  assert.deepEqual(resolveTrainingWindow({ trainFrom: null, trainTo: null, requestedAt: 10 * DAY }), {
    from: 3 * DAY,
    to: 10 * DAY,
  });
  assert.deepEqual(resolveTrainingWindow({ trainFrom: null, trainTo: 8 * DAY, requestedAt: 99 * DAY }), {
    from: DAY,
    to: 8 * DAY,
  });
  assert.deepEqual(resolveTrainingWindow({ trainFrom: null, trainTo: null, requestedAt: DAY }), {
    from: 0,
    to: DAY,
  });
  assert.throws(
    () => resolveTrainingWindow({ trainFrom: 9 * DAY, trainTo: null, requestedAt: 2 * DAY }),
    /empty/,
  );
});

test('the training-set SQL quotes the model name and filters served rows of the window', () => {
  const sql = loggedTrainingSetSql({ model: "it's", window: { from: 10, to: 20 }, maxRows: 7 });
  assert.match(sql, /model = 'it\\'s' AND shadow = 0 AND eventTime >= 10 AND eventTime < 20/);
  assert.match(sql, /ALL INNER JOIN/);
  assert.match(sql, /ORDER BY eventId, predictionId\s+LIMIT 7$/);
  assert.throws(
    () => loggedTrainingSetSql({ model: 'm', window: { from: 1.5, to: 2 } }),
    /epoch milliseconds/,
  );
});
