import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FileModelRegistry, modelRegistryRoot } from '../../connectors/model-registry/file-model-registry.js';
import type { ModelLifecycleEvent } from '../../connectors/model-registry/lifecycle-event.js';
import { toLifecycleEventRecord } from '../../connectors/model-registry/lifecycle-event.js';
import { ModelLifecycleEvent as LifecycleSchema } from '../../schemas/types.generated.js';
import avro from 'avsc';
import type { ModelCandidate } from '../../connectors/model-registry/model-metadata.js';
import { InvalidModelMetadataError } from '../../connectors/model-registry/model-metadata.js';
import { ModelChecksumError, ModelRegistryError } from '../../connectors/model-registry/registry-errors.js';
import { buildReferenceModel, sha256Hex } from '../../services/trainer/build-reference-model.js';

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sluice-registry-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const built = await buildReferenceModel({ outDir: path.join(root, 'trainer-out'), rows: 1500, seed: 1 });
  const bytes = await readFile(built.modelPath);
  const events: ModelLifecycleEvent[] = [];
  const registry = new FileModelRegistry({
    root: path.join(root, 'models'),
    onLifecycleEvent: (e) => void events.push(e),
  });
  const candidate = (version: string): ModelCandidate => ({ ...built.candidate, version });
  return { root, registry, bytes, events, candidate, trainerOut: path.dirname(built.modelPath) };
}

test('registry root comes from SLUICE_MODEL_DIR, else .state/models', () => {
  assert.equal(modelRegistryRoot({ SLUICE_MODEL_DIR: '/srv/models' }), '/srv/models');
  assert.equal(modelRegistryRoot({}), path.resolve('.state/models'));
});

test('register, get, list and loadVerified round-trip a model', async (t) => {
  const { registry, bytes, events, trainerOut } = await setup(t);
  const registered = await registry.registerFromDirectory(trainerOut);
  assert.equal(registered.stage, 'shadow');
  assert.deepEqual(await registry.get('txn-risk', '1'), registered);
  assert.deepEqual(
    (await registry.list()).map((m) => `${m.name}@${m.version}`),
    ['txn-risk@1'],
  );
  const loaded = await registry.loadVerified('txn-risk', '1');
  assert.deepEqual(Buffer.from(loaded.bytes), bytes);
  assert.deepEqual(
    events.map((e) => [e.type, e.version, e.from, e.to]),
    [['registered', '1', null, 'shadow']],
  );
  await assert.rejects(
    registry.registerFromDirectory(trainerOut),
    (e: ModelRegistryError) => e.code === 'VERSION_EXISTS',
  );
});

test('one champion per model; promoting archives the old one and rollback restores it', async (t) => {
  const { registry, bytes, events, candidate } = await setup(t);
  await registry.register(candidate('1'), bytes, { stage: 'champion' });
  await registry.register(candidate('2'), bytes, { stage: 'challenger' });
  await registry.setStage('txn-risk', '2', 'champion', 'beat v1 on AUC');
  const stages = async () =>
    Object.fromEntries((await registry.list('txn-risk')).map((m) => [m.version, m.stage]));
  assert.deepEqual(await stages(), { '1': 'archived', '2': 'champion' });
  const restored = await registry.rollback('txn-risk');
  assert.equal(restored.version, '1');
  assert.deepEqual(await stages(), { '1': 'champion', '2': 'archived' });
  const stageEvents = events
    .filter((e) => e.type === 'stage_changed')
    .map((e) => `${e.version}:${e.from}->${e.to}`);
  assert.deepEqual(stageEvents, [
    '1:shadow->champion',
    '1:champion->archived',
    '2:challenger->champion',
    '2:champion->archived',
    '1:archived->champion',
  ]);
  assert.ok((await registry.get('txn-risk', '1')).stageHistory.length >= 4);
});

test('rollback without a previous champion is a typed error', async (t) => {
  const { registry, bytes, candidate } = await setup(t);
  await assert.rejects(
    registry.rollback('txn-risk'),
    (e: ModelRegistryError) => e.code === 'NO_PREVIOUS_CHAMPION',
  );
  await registry.register(candidate('1'), bytes, { stage: 'champion' });
  await assert.rejects(registry.rollback('txn-risk'), /replaced no earlier champion/);
});

test('concurrent promotions still leave exactly one champion', async (t) => {
  const { registry, bytes, candidate } = await setup(t);
  for (const v of ['1', '2', '3', '4']) await registry.register(candidate(v), bytes);
  await Promise.all(['1', '2', '3', '4'].map((v) => registry.setStage('txn-risk', v, 'champion')));
  const champions = (await registry.list('txn-risk')).filter((m) => m.stage === 'champion');
  assert.equal(champions.length, 1);
});

test('loadVerified refuses a model whose file changed after registration', async (t) => {
  const { registry, bytes, candidate } = await setup(t);
  await registry.register(candidate('1'), bytes);
  const file = path.join(registry.root, 'txn-risk', '1', 'model.onnx');
  const tampered = Buffer.from(bytes);
  tampered[tampered.length - 1]! ^= 0xff;
  await writeFile(file, tampered);
  await assert.rejects(registry.loadVerified('txn-risk', '1'), (e: unknown) => {
    assert.ok(e instanceof ModelChecksumError);
    assert.equal(e.code, 'CHECKSUM_MISMATCH');
    assert.equal(e.actual, sha256Hex(tampered));
    return /refused: sha256/.test(e.message);
  });
});

test('register refuses bytes that do not match the candidate sha256, and invalid metadata', async (t) => {
  const { registry, bytes, candidate } = await setup(t);
  await assert.rejects(registry.register(candidate('1'), bytes.subarray(1)), ModelChecksumError);
  const bad = { ...candidate('2'), stage: undefined, features: [] } as unknown as ModelCandidate;
  await assert.rejects(registry.register(bad, bytes), (e: unknown) => {
    assert.ok(e instanceof InvalidModelMetadataError);
    return /\/features must NOT have fewer than 1 items/.test(e.message);
  });
  await assert.rejects(registry.register(candidate('../escape'), bytes), /must match/);
  await assert.rejects(
    registry.get('txn-risk', '9'),
    (e: ModelRegistryError) => e.code === 'MODEL_NOT_FOUND',
  );
});

test('a failing lifecycle publisher surfaces as a typed error after the stage is persisted', async (t) => {
  const { root, bytes, candidate } = await setup(t);
  const registry = new FileModelRegistry({
    root: path.join(root, 'models2'),
    onLifecycleEvent: async (e) => {
      if (e.type === 'stage_changed') throw new Error('kafka down');
    },
  });
  await registry.register(candidate('1'), bytes);
  await assert.rejects(registry.setStage('txn-risk', '1', 'challenger'), (e: ModelRegistryError) => {
    return e.code === 'LIFECYCLE_EVENT_FAILED' && /kafka down/.test(e.message);
  });
  assert.equal((await registry.get('txn-risk', '1')).stage, 'challenger');
});

test('lifecycle events map onto the ModelLifecycleEvent Avro record', async (t) => {
  const { registry, bytes, events, candidate } = await setup(t);
  await registry.register(candidate('1'), bytes, { stage: 'champion' });
  const [registered, promoted] = events.map((e) => toLifecycleEventRecord(e, 'trainer'));
  assert.equal(registered!.fromStage, 'REGISTERED');
  assert.equal(promoted!.fromStage, 'SHADOW');
  assert.equal(promoted!.toStage, 'CHAMPION');
  assert.equal(promoted!.artifactUri, path.join(registry.root, 'txn-risk', '1', 'model.onnx'));
  assert.notEqual(registered!.eventId, promoted!.eventId);
  const type = avro.Type.forSchema(LifecycleSchema.avsc as avro.Schema);
  assert.ok(type.isValid(promoted), 'the record is valid against the Avro schema');
  assert.deepEqual({ ...type.fromBuffer(type.toBuffer(promoted)) }, promoted);
});
