/**
 * How the Avro serde remembers schema ids the registry does not know. Poison can carry any of 2^32 ids:
 * each must cost at most one registry lookup per TTL, and the memory for them must stay bounded. The
 * registry is a counting stand-in here (only the serde's caching is under test); the real registry's 404
 * is covered by test/integration/serde.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createAvroSerde,
  encodeHeader,
  type RegistryClient,
} from '../../connectors/schema-registry/index.js';
import type { SchemaDescriptor } from '../../schemas/index.js';

const Point: SchemaDescriptor<{ x: number }> = {
  name: 'Point',
  avsc: { type: 'record', name: 'Point', fields: [{ name: 'x', type: 'int' }] },
};

/** A registry that knows no id: every lookup is a 404, counted per id. */
function emptyRegistry() {
  const lookups = new Map<number, number>();
  const client = {
    async getBySubjectAndId(_subject: string, id: number) {
      lookups.set(id, (lookups.get(id) ?? 0) + 1);
      throw Object.assign(new Error(`Schema ${id} not found`), { status: 404 });
    },
  } as unknown as RegistryClient;
  return { client, lookups };
}

const payload = (id: number) => Buffer.concat([encodeHeader(id), Buffer.from([2])]);

async function codeOf(attempt: () => unknown): Promise<string> {
  try {
    await attempt();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'decoded';
}

test('an unknown id is looked up once while remembered, and again after its TTL', async () => {
  const { client, lookups } = emptyRegistry();
  const serde = createAvroSerde(Point, client, { topic: 'points', unknownIdTtlMs: 200 });
  for (let i = 0; i < 5; i += 1)
    assert.equal(await codeOf(() => serde.deserialize(payload(7))), 'UNKNOWN_SCHEMA_ID');
  assert.equal(lookups.get(7), 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await codeOf(() => serde.deserialize(payload(7))), 'UNKNOWN_SCHEMA_ID');
  assert.equal(lookups.get(7), 2, 'looked up again once the TTL passed (it may have been registered since)');
});

test('a flood of distinct unknown ids keeps at most maxUnknownIds, forgetting the least recently seen', async () => {
  const { client, lookups } = emptyRegistry();
  const serde = createAvroSerde(Point, client, { topic: 'points', maxUnknownIds: 100 });
  await codeOf(() => serde.deserialize(payload(1)));
  for (let id = 1000; id < 1100; id += 1) await codeOf(() => serde.deserialize(payload(id)));
  // 100 newer ids pushed id 1 out; the newest are still remembered.
  await codeOf(() => serde.deserialize(payload(1)));
  await codeOf(() => serde.deserialize(payload(1099)));
  assert.equal(lookups.get(1), 2);
  assert.equal(lookups.get(1099), 1);
});
