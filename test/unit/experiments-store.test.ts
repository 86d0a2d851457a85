/** The versioned experiment store: every save is a new immutable version; bad configs are refused. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  ExperimentNotFoundError,
  FileExperimentStore,
  InvalidExperimentError,
  type ExperimentDraft,
} from '../../connectors/experiments/index.js';

const draft = (weightA: number): ExperimentDraft => ({
  name: 'txn-ab',
  salt: 'v1',
  variants: [
    { name: 'A', model: 'txn-risk', weight: weightA },
    { name: 'B', model: 'txn-risk', modelVersion: '7', weight: 1 - weightA },
  ],
  shadows: [{ name: 'S', model: 'txn-risk-mlp', stage: 'challenger' }],
});

const store = () => new FileExperimentStore({ root: mkdtempSync(path.join(os.tmpdir(), 'exp-')) });

test('saves are new versions; old versions stay readable', async () => {
  const s = store();
  const v1 = await s.save(draft(0.5));
  const v2 = await s.save(draft(0.9));
  assert.deepEqual([v1.version, v2.version], [1, 2]);
  assert.deepEqual(await s.versions('txn-ab'), [1, 2]);
  assert.equal((await s.get('txn-ab')).variants[0]?.weight, 0.9);
  assert.equal((await s.get('txn-ab', 1)).variants[0]?.weight, 0.5);
  assert.deepEqual(await s.names(), ['txn-ab']);
});

test('concurrent saves never share a version number', async () => {
  const s = store();
  const saved = await Promise.all(Array.from({ length: 8 }, (_, i) => s.save(draft(0.1 * (i + 1)))));
  assert.deepEqual(
    saved.map((c) => c.version).sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  for (const c of saved)
    assert.equal((await s.get('txn-ab', c.version)).variants[0]?.weight, c.variants[0]?.weight);
});

test('invalid drafts are refused with every problem named', async () => {
  const s = store();
  await assert.rejects(
    s.save({ ...draft(0.7), variants: [{ name: 'A', model: 'm', weight: 0.7 }] }),
    /add up to 0\.7/,
  );
  await assert.rejects(
    s.save({ ...draft(0.5), shadows: [{ name: 'A', model: 'x' }] }),
    (err: unknown) => err instanceof InvalidExperimentError && /A used twice/.test(err.message),
  );
  await assert.rejects(
    s.save({ ...draft(0.5), salt: '', extra: 1 } as unknown as ExperimentDraft),
    (err: unknown) => err instanceof InvalidExperimentError && err.problems.length >= 2,
  );
  assert.deepEqual(await s.versions('txn-ab'), [], 'nothing was stored');
});

test('missing or tampered versions are clear errors', async () => {
  const s = store();
  await assert.rejects(
    s.get('nope'),
    (e: unknown) => e instanceof ExperimentNotFoundError && /save one first/.test(String(e)),
  );
  await s.save(draft(0.5));
  await assert.rejects(s.get('txn-ab', 9), /no version 9/);
  writeFileSync(
    path.join(s.root, 'txn-ab', '2.json'),
    JSON.stringify({ ...(await s.get('txn-ab', 1)), version: 1 }),
  );
  await assert.rejects(s.get('txn-ab', 2), /must not be renamed or copied/);
});
