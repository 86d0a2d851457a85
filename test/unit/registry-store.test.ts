import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { parseAvroSchema } from '../../services/registry/avro-schema.js';
import { RegistryError } from '../../services/registry/errors.js';
import { decodeLogRecord, encodeLogRecord, type LogRecord } from '../../services/registry/log-records.js';
import { RegistryService } from '../../services/registry/registry-service.js';
import { MemorySchemaLog } from '../../services/registry/schema-log.js';
import { parseVersionRef, RegistryStore } from '../../services/registry/store.js';

const schema = (fields: object[]) =>
  parseAvroSchema(JSON.stringify({ type: 'record', name: 'Payment', fields }));
const v1 = schema([{ name: 'id', type: 'string' }]);
const v2 = schema([
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'double', default: 0 },
]);
const breaking = schema([
  { name: 'id', type: 'string' },
  { name: 'currency', type: 'string' },
]);

/** Applies a plan the way the service does, so the tests exercise plan + apply together. */
function commit<R>(store: RegistryStore, plan: { records: LogRecord[]; result: R }, log?: LogRecord[]): R {
  store.applyAll(plan.records);
  log?.push(...plan.records);
  return plan.result;
}

const code = (fn: () => unknown): number => {
  try {
    fn();
  } catch (err) {
    if (err instanceof RegistryError) return err.errorCode;
    throw err;
  }
  assert.fail('expected a RegistryError');
};

describe('RegistryStore', () => {
  it('registers versions, reuses ids for the same schema, and shares ids across subjects', () => {
    const store = new RegistryStore();
    const a = commit(store, store.planRegister('s-value', v1));
    assert.deepEqual(a, { id: 1, version: 1 });
    const again = store.planRegister('s-value', schema([{ type: 'string', name: 'id' }])); // other key order
    assert.deepEqual(again, { records: [], result: { id: 1, version: 1 } });
    const other = commit(store, store.planRegister('t-value', v1));
    assert.deepEqual(other, { id: 1, version: 1 });
    const b = commit(store, store.planRegister('s-value', v2));
    assert.deepEqual(b, { id: 2, version: 2 });
    assert.deepEqual(store.listSubjects(), ['s-value', 't-value']);
    assert.deepEqual(store.listVersions('s-value'), [1, 2]);
    assert.equal(store.getVersion('s-value', 'latest').id, 2);
    assert.equal(store.lookup('s-value', v1).version, 1);
    assert.deepEqual(store.versionsUsingId(1), [
      { subject: 's-value', version: 1 },
      { subject: 't-value', version: 1 },
    ]);
    assert.equal(JSON.parse(store.getSchemaById(2)).fields.length, 2);
  });

  it('refuses an incompatible schema with 409 naming subject and level, and writes nothing', () => {
    const store = new RegistryStore();
    commit(store, store.planRegister('s-value', v1));
    assert.throws(
      () => store.planRegister('s-value', breaking),
      (err: unknown) =>
        err instanceof RegistryError &&
        err.status === 409 &&
        /s-value/.test(err.message) &&
        /BACKWARD/.test(err.message),
    );
    commit(store, store.planSetLevel('s-value', 'NONE'));
    assert.deepEqual(commit(store, store.planRegister('s-value', breaking)), { id: 2, version: 2 });
  });

  it('uses the subject level over the global one over BACKWARD', () => {
    const store = new RegistryStore();
    assert.equal(store.effectiveLevel('s'), 'BACKWARD');
    commit(store, store.planSetLevel(null, 'FULL'));
    assert.equal(store.effectiveLevel('s'), 'FULL');
    commit(store, store.planSetLevel('s', 'NONE'));
    assert.equal(store.effectiveLevel('s'), 'NONE');
    assert.equal(commit(store, store.planDeleteSubjectLevel('s')), 'NONE');
    assert.equal(store.effectiveLevel('s'), 'FULL');
    assert.equal(
      code(() => store.planDeleteSubjectLevel('s')),
      40408,
    );
  });

  it('answers Confluent error codes for missing things', () => {
    const store = new RegistryStore();
    commit(store, store.planRegister('s-value', v1));
    assert.equal(
      code(() => store.listVersions('nope')),
      40401,
    );
    assert.equal(
      code(() => store.getVersion('s-value', 7)),
      40402,
    );
    assert.equal(
      code(() => store.getSchemaById(42)),
      40403,
    );
    assert.equal(
      code(() => store.lookup('s-value', v2)),
      40403,
    );
    assert.equal(
      code(() => store.lookup('nope', v1)),
      40401,
    );
    assert.equal(
      code(() => parseVersionRef('0')),
      42202,
    );
    assert.equal(
      code(() => parseAvroSchema('{"type":"record"}')),
      42201,
    );
    assert.equal(
      code(() => parseAvroSchema('"string"', 'PROTOBUF')),
      42201,
    );
  });

  it('soft-deletes, then permanently deletes, and never reuses an id', () => {
    const store = new RegistryStore();
    commit(store, store.planRegister('s-value', v1));
    commit(store, store.planRegister('s-value', v2));
    assert.equal(
      code(() => store.planDeleteSubject('s-value', true)),
      40405,
    );
    assert.deepEqual(commit(store, store.planDeleteSubject('s-value', false)), [1, 2]);
    assert.deepEqual(store.listSubjects(), []);
    assert.deepEqual(store.listSubjects(true), ['s-value']);
    assert.equal(store.getVersion('s-value', 1, true).deleted, true);
    assert.equal(JSON.parse(store.getSchemaById(1)).name, 'Payment'); // old data still decodes
    assert.equal(
      code(() => store.planDeleteSubject('s-value', false)),
      40404,
    );
    // A soft-deleted subject starts its next version after the deleted ones.
    assert.deepEqual(commit(store, store.planRegister('s-value', breaking)), { id: 3, version: 3 });
    commit(store, store.planDeleteSubject('s-value', false));
    assert.deepEqual(commit(store, store.planDeleteSubject('s-value', true)), [1, 2, 3]);
    assert.equal(
      code(() => store.getSchemaById(1)),
      40403,
    );
    assert.equal(
      code(() => store.listVersions('s-value', true)),
      40401,
    );
    // The schema keeps its id; a new schema gets a fresh one.
    assert.equal(commit(store, store.planRegister('s-value', v1)).id, 1);
    assert.equal(commit(store, store.planRegister('z-value', schema([{ name: 'z', type: 'int' }]))).id, 4);
  });

  it('rebuilds the same state from the log records (as after a restart and compaction)', () => {
    const store = new RegistryStore();
    const log: LogRecord[] = [];
    commit(store, store.planRegister('s-value', v1), log);
    commit(store, store.planRegister('s-value', v2), log);
    commit(store, store.planRegister('t-value', breaking), log);
    commit(store, store.planSetLevel('t-value', 'FULL'), log);
    commit(store, store.planDeleteSubject('t-value', false), log);
    // Compaction keeps the latest value per key, in order of first appearance.
    const compacted = new Map<string, string | null>();
    for (const r of log) {
      const { key, value } = encodeLogRecord(r);
      compacted.set(key, value);
    }
    const replayed = new RegistryStore();
    for (const [key, value] of compacted) {
      const record = decodeLogRecord(key, value);
      assert.ok(record, `decodes ${key}`);
      replayed.apply(record);
    }
    assert.deepEqual(replayed.listSubjects(true), store.listSubjects(true));
    assert.deepEqual(replayed.getVersion('s-value', 'latest'), store.getVersion('s-value', 'latest'));
    assert.deepEqual(replayed.getVersion('t-value', 1, true), store.getVersion('t-value', 1, true));
    assert.equal(replayed.subjectLevel('t-value'), 'FULL');
    assert.deepEqual(replayed.planRegister('u-value', schema([{ name: 'q', type: 'int' }])).result, {
      id: 4,
      version: 1,
    });
  });

  it('skips log records it does not understand', () => {
    assert.equal(decodeLogRecord('garbage', '{}'), null);
    assert.equal(
      decodeLogRecord('{"kind":"SCHEMA","subject":"s","version":0}', '{"id":1,"deleted":false}'),
      null,
    );
    assert.equal(decodeLogRecord('{"kind":"CONFIG","subject":null}', '{"compatibilityLevel":"MAYBE"}'), null);
  });
});

describe('RegistryService', () => {
  const logger = pino({ level: 'silent' });

  it('acknowledges a write only after the log has it, and serialises concurrent writes', async () => {
    const log = new MemorySchemaLog();
    const service = new RegistryService(log, logger);
    await service.start();
    const results = await Promise.all(
      ['a', 'b', 'c'].map((s) =>
        service.write((store) => store.planRegister(`${s}-value`, schema([{ name: s, type: 'int' }]))),
      ),
    );
    assert.deepEqual(results.map((r) => r.id).sort(), [1, 2, 3]);
    assert.equal(log.records.filter((r) => r.kind === 'ID').length, 3);
    const restarted = new RegistryService(log, logger);
    await restarted.start();
    assert.deepEqual(restarted.store.listSubjects(), ['a-value', 'b-value', 'c-value']);
  });

  it('answers 50001 when the log refuses a write, and keeps memory equal to the log', async () => {
    const log = new MemorySchemaLog();
    const service = new RegistryService(log, logger);
    await service.start();
    log.append = async () => {
      throw new Error('broker down');
    };
    await assert.rejects(
      service.write((store) => store.planRegister('s-value', v1)),
      (err: unknown) => err instanceof RegistryError && err.errorCode === 50001,
    );
    await new Promise((resolve) => setTimeout(resolve, 10)); // the re-read after a failed write
    assert.deepEqual(service.store.listSubjects(), []);
    assert.equal(service.ready, true);
  });

  it('refuses writes until the log has been read', async () => {
    const service = new RegistryService(new MemorySchemaLog(), logger);
    await assert.rejects(
      service.write((store) => store.planSetLevel(null, 'NONE')),
      (err: unknown) => err instanceof RegistryError && err.status === 503,
    );
  });
});
