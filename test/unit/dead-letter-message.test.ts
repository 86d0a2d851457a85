/**
 * A dead letter must always be accepted by the broker: one that is refused fails its checkpoint, and the
 * replay meets the same record again. Its size is measured with kafkajs' own record encoder.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import { deadLetterMessage, MAX_DEAD_LETTER_BYTES } from '../../connectors/kafka/dead-letter.js';
import type { RawRecord } from '../../schemas/stream.js';

const require = createRequire(import.meta.url);
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: object) => { buffer: Buffer };

const encodedSize = (m: ReturnType<typeof deadLetterMessage>) =>
  Record({ key: m.key, value: m.value, headers: m.headers }).buffer.length;

const reason = { code: 'BAD_MAGIC_BYTE', message: 'first byte is 0x6e, not 0' };
const source = { topic: 'events', partition: 2, offset: '41', timestamp: 1_700_000_000_000 };

const bytes = (max: number) => fc.nat({ max }).map((n) => Buffer.alloc(n, 0x61));
const raw = fc.record({
  key: fc.option(bytes(300_000)),
  value: fc.option(bytes(1_100_000)),
  headers: fc
    .array(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.nat({ max: 200_000 })), { maxLength: 8 })
    .map((hs) => Object.fromEntries(hs.map(([k, n]) => [k, 'h'.repeat(n)]))),
  source: fc.constant(source),
}) as fc.Arbitrary<RawRecord>;

test('a dead letter is never larger than MAX_DEAD_LETTER_BYTES, and a record that fits is kept whole', () => {
  fc.assert(
    fc.property(raw, (r) => {
      const m = deadLetterMessage('t', r, reason);
      assert.ok(encodedSize(m) <= MAX_DEAD_LETTER_BYTES, `${encodedSize(m)} bytes`);
      assert.equal(m.partition, source.partition);
      assert.equal(m.headers['sluice.error.code'], reason.code);
      assert.equal(m.headers['sluice.source.offset'], source.offset);
      const whole =
        !('sluice.error.headers-dropped' in m.headers) && !('sluice.error.truncated' in m.headers);
      if (whole && !('sluice.error.key-truncated' in m.headers)) {
        assert.deepEqual(m.key, r.key);
        assert.deepEqual(m.value, r.value);
        for (const [k, v] of Object.entries(r.headers)) {
          if (!k.startsWith('sluice.')) assert.equal(m.headers[k], v);
        }
      }
    }),
    { numRuns: 60 },
  );
});

test('what does not fit goes in order: the original headers, then the value, each noted', () => {
  const big = 'h'.repeat(600_000);
  const r: RawRecord = {
    key: Buffer.from('k'),
    value: Buffer.alloc(700_000),
    headers: { trace: big },
    source,
  };
  const m = deadLetterMessage('t', r, reason);
  assert.equal(m.headers.trace, undefined);
  assert.equal(m.headers['sluice.error.headers-dropped'], '1 headers, 600015 bytes');
  assert.deepEqual(m.value, r.value, 'the value alone fits, so it is whole');
  const huge = deadLetterMessage('t', { ...r, value: Buffer.alloc(2_000_000) }, reason);
  assert.equal(huge.headers['sluice.error.truncated'], '2000000');
  assert.ok(encodedSize(huge) <= MAX_DEAD_LETTER_BYTES);
});

test('the reason headers win over same-named original ones; a __proto__ header is kept', () => {
  const headers = JSON.parse('{"__proto__": "p", "sluice.error.code": "OLD"}') as Record<string, string>;
  const m = deadLetterMessage('t', { key: null, value: Buffer.from('x'), headers, source }, reason);
  assert.equal(m.headers['sluice.error.code'], reason.code);
  assert.equal(Object.getOwnPropertyDescriptor(m.headers, '__proto__')?.value, 'p');
});
