/** The local stack's KRaft cluster ids: Kafka's format, and never one the storage tool takes for an option. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newClusterId } from '../../deploy/stack/kafka.js';

test('cluster ids are 22 URL-safe base64 characters and never start with "-"', () => {
  const ids = Array.from({ length: 20_000 }, () => newClusterId());
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
  // Without the check about 1 in 64 would start with '-': 20,000 draws would hold about 300 of them.
  assert.equal(new Set(ids).size, ids.length);
});
