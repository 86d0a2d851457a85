/**
 * The built-in registry against real Kafka, driven by the official @confluentinc/schemaregistry client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RestError, SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { createKafka } from '../../connectors/kafka/client.js';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { startInProcessRegistry, type InProcessRegistry } from '../../services/registry/in-process.js';

const { kafkaBrokers } = loadEndpoints();
const topic = `_sluice_schemas_test_${process.pid}_${Date.now()}`;

const v1 = {
  type: 'record',
  name: 'Payment',
  namespace: 'dev.sluice.test',
  fields: [{ name: 'id', type: 'string' }],
};
const v2 = { ...v1, fields: [...v1.fields, { name: 'amount', type: 'double', default: 0 }] };
const v2Required = { ...v1, fields: [...v1.fields, { name: 'amount', type: 'double' }] };
const v3Required = { ...v1, fields: [...v2.fields, { name: 'currency', type: 'string' }] };
const avro = (schema: object) => ({ schemaType: 'AVRO', schema: JSON.stringify(schema) });

async function restError(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RestError) return err;
    throw err;
  }
  assert.fail('expected the registry to refuse the request');
}

describe('built-in schema registry (real Kafka, official client)', () => {
  let registry: InProcessRegistry;
  let client: SchemaRegistryClient;

  before(async () => {
    registry = await startInProcessRegistry({ brokers: kafkaBrokers, topic });
    client = new SchemaRegistryClient({ baseURLs: [registry.url], maxRetries: 0 });
  });

  after(async () => {
    await registry?.stop();
    const admin = createKafka(kafkaBrokers, 'registry-test-cleanup').admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('registers, returns the same id for the same schema, and fetches by id', async () => {
    const id = await client.register('payments-value', avro(v1));
    assert.ok(Number.isInteger(id) && id > 0);
    assert.equal(await client.register('payments-value', avro(v1)), id);
    // Same schema formatted differently is the same schema.
    assert.equal(
      await client.register('payments-value', { schemaType: 'AVRO', schema: JSON.stringify(v1, null, 2) }),
      id,
    );
    const byId = await client.getBySubjectAndId('payments-value', id);
    assert.deepEqual(JSON.parse(byId.schema), v1);
  });

  it('gives a schema the same global id under another subject, and new schemas new ids', async () => {
    const id1 = await client.getId('payments-value', avro(v1));
    assert.equal(await client.register('refunds-value', avro(v1)), id1);
    const id2 = await client.register('payments-value', avro(v2));
    assert.notEqual(id2, id1);
    assert.deepEqual(await client.getAllVersions('payments-value'), [1, 2]);
    const latest = await client.getLatestSchemaMetadata('payments-value');
    assert.equal(latest.version, 2);
    assert.equal(latest.id, id2);
    assert.deepEqual(JSON.parse(latest.schema), v2);
    assert.equal(await client.getVersion('payments-value', avro(v1)), 1);
    const v1meta = await client.getSchemaMetadata('payments-value', 1);
    assert.equal(v1meta.id, id1);
    assert.deepEqual((await client.getAllSubjects()).sort(), ['payments-value', 'refunds-value']);
  });

  it('rejects a BACKWARD-forbidden change (new field without default) with 409 naming subject and level', async () => {
    assert.equal(await client.testSubjectCompatibility('payments-value', avro(v3Required)), false);
    const err = await restError(client.register('payments-value', avro(v3Required)));
    assert.equal(err.status, 409);
    assert.equal(err.errorCode, 409);
    assert.match(err.message, /payments-value/);
    assert.match(err.message, /BACKWARD/);
    assert.deepEqual(await client.getAllVersions('payments-value'), [1, 2]);
  });

  it('checks compatibility against a given version and per subject level', async () => {
    assert.equal(await client.testCompatibility('payments-value', 1, avro(v2)), true);
    assert.equal(await client.testCompatibility('payments-value', 1, avro(v2Required)), false);
    assert.equal(await client.getDefaultCompatibility(), 'BACKWARD');
    assert.equal(await client.updateCompatibility('payments-value', 'NONE' as never), 'NONE');
    assert.equal(await client.getCompatibility('payments-value'), 'NONE');
    assert.equal(await client.testCompatibility('payments-value', 1, avro(v2Required)), true);
    assert.equal(await client.testSubjectCompatibility('payments-value', avro(v3Required)), true);
    const err = await restError(client.updateCompatibility('payments-value', 'SIDEWAYS' as never));
    assert.equal(err.errorCode, 42203);
    assert.equal(err.status, 422);
  });

  it('answers Confluent error codes for missing subjects, versions, ids and invalid schemas', async () => {
    assert.equal((await restError(client.getAllVersions('nope-value'))).errorCode, 40401);
    assert.equal((await restError(client.getSchemaMetadata('payments-value', 99))).errorCode, 40402);
    assert.equal((await restError(client.getBySubjectAndId('', 987654))).errorCode, 40403);
    assert.equal(
      (await restError(client.getId('payments-value', avro({ type: 'enum', name: 'X', symbols: ['A'] }))))
        .errorCode,
      40403,
    );
    const invalid = await restError(
      client.register('bad-value', { schemaType: 'AVRO', schema: '{"type":"record"' }),
    );
    assert.equal(invalid.errorCode, 42201);
    assert.equal(invalid.status, 422);
  });

  it('soft-deletes, then permanently deletes, a subject', async () => {
    const id = await client.register('temp-value', avro({ type: 'string' }));
    assert.deepEqual(await client.deleteSubject('temp-value'), [1]);
    assert.ok(!(await client.getAllSubjects()).includes('temp-value'));
    // Soft-deleted schemas stay readable by id (old data must still decode).
    assert.deepEqual(JSON.parse((await client.getBySubjectAndId('', id)).schema), { type: 'string' });
    assert.equal((await restError(client.deleteSubject('temp-value'))).errorCode, 40404);
    assert.deepEqual(await client.deleteSubject('temp-value', true), [1]);
    assert.equal((await restError(client.getAllVersions('temp-value'))).errorCode, 40401);
    // Re-registering after permanent delete keeps the id (ids are never reused for another schema).
    assert.equal(await client.register('temp-value', avro({ type: 'string' })), id);
  });

  it('serves /healthz without credentials and the vnd content type on API routes', async () => {
    const health = await fetch(`${registry.url}/healthz`);
    assert.equal(health.status, 200);
    const subjects = await fetch(`${registry.url}/subjects`);
    assert.equal(subjects.headers.get('content-type'), 'application/vnd.schemaregistry.v1+json');
  });

  it('keeps ids, subjects, versions and config after a restart on the same topic', async () => {
    const lastId = await client.register('before-restart-value', avro({ type: 'int' }));
    const before = {
      subjects: (await client.getAllSubjects()).sort(),
      versions: await client.getAllVersions('payments-value'),
      latest: await client.getLatestSchemaMetadata('payments-value'),
      level: await client.getCompatibility('payments-value'),
    };
    await registry.stop();
    registry = await startInProcessRegistry({ brokers: kafkaBrokers, topic });
    client = new SchemaRegistryClient({ baseURLs: [registry.url], maxRetries: 0 });
    assert.deepEqual((await client.getAllSubjects()).sort(), before.subjects);
    assert.deepEqual(await client.getAllVersions('payments-value'), before.versions);
    assert.deepEqual(await client.getLatestSchemaMetadata('payments-value'), before.latest);
    assert.equal(await client.getCompatibility('payments-value'), before.level);
    // The next new schema gets a fresh id, not one already handed out.
    assert.equal(await client.getId('before-restart-value', avro({ type: 'int' })), lastId);
    const fresh = await client.register('after-restart-value', avro({ type: 'long' }));
    assert.ok(fresh > lastId, `new id ${fresh} must not reuse ids up to ${lastId}`);
  });
});

describe('built-in schema registry with basic auth', () => {
  it('refuses requests without valid credentials, except /healthz', async () => {
    const authTopic = `${topic}_auth`;
    const registry = await startInProcessRegistry({
      brokers: kafkaBrokers,
      topic: authTopic,
      credentials: new Map([['alice', 's3cret']]),
    });
    try {
      assert.equal((await fetch(`${registry.url}/healthz`)).status, 200);
      const anonymous = new SchemaRegistryClient({ baseURLs: [registry.url], maxRetries: 0 });
      assert.equal((await restError(anonymous.getAllSubjects())).status, 401);
      const wrong = new SchemaRegistryClient({
        baseURLs: [registry.url],
        maxRetries: 0,
        basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: 'alice:wrong' },
      });
      assert.equal((await restError(wrong.getAllSubjects())).status, 401);
      const alice = new SchemaRegistryClient({
        baseURLs: [registry.url],
        maxRetries: 0,
        basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: 'alice:s3cret' },
      });
      assert.deepEqual(await alice.getAllSubjects(), []);
    } finally {
      await registry.stop();
      const admin = createKafka(kafkaBrokers, 'registry-test-cleanup').admin();
      await admin.connect();
      await admin.deleteTopics({ topics: [authTopic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
