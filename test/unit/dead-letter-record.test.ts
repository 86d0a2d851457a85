/**
 * parseDeadLetter reads back what deadLetterMessage wrote: the original record exactly, its reason and
 * position, and whether the letter still holds the whole record (only then may a replay republish it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { deadLetterMessage } from '../../connectors/kafka/dead-letter.js';
import {
  parseDeadLetter,
  REPLAY_OF_HEADER,
  REPLAY_TIMESTAMP_HEADER,
  replayMessage,
  type DeadLetter,
} from '../../connectors/kafka/dead-letter-record.js';
import type { RawRecord } from '../../schemas/stream.js';

/** What a consumer gets for a produced message: header values as Buffers. */
function asFetched(message: Message, offset = '42'): KafkaMessage {
  const headers: IHeaders = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    Object.defineProperty(headers, k, { value: Buffer.from(String(v)), enumerable: true });
  }
  return {
    key: message.key === undefined || message.key === null ? null : Buffer.from(message.key),
    value: message.value === null ? null : Buffer.from(message.value as Buffer),
    timestamp: '1700000000000',
    attributes: 0,
    offset,
    headers,
  } as KafkaMessage;
}

const headerName = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'trace-id', 'sluice.replay.of'),
);

const rawRecord = fc.record({
  key: fc.option(
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    { nil: null },
  ),
  value: fc.option(
    fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
    { nil: null },
  ),
  headers: fc.dictionary(headerName, fc.string({ maxLength: 40 }), { maxKeys: 6 }),
  partition: fc.nat({ max: 11 }),
  offset: fc.bigInt({ min: 0n, max: 2n ** 53n }).map(String),
  timestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
});

test('a letter that fits reads back as the original record, its reason and its position', () => {
  fc.assert(
    fc.property(rawRecord, fc.string({ minLength: 1, maxLength: 30 }), (r, code) => {
      const raw: RawRecord = {
        key: r.key,
        value: r.value,
        headers: r.headers,
        source: { topic: 'events', partition: r.partition, offset: r.offset, timestamp: r.timestamp },
      };
      const letter = parseDeadLetter(asFetched(deadLetterMessage('fraud', raw, { code, message: 'why' })));
      assert.ok(!(letter instanceof Error));
      assert.equal(letter.notReplayable, undefined);
      assert.deepEqual(letter.reason, { code, message: 'why' });
      assert.equal(letter.topology, 'fraud');
      assert.deepEqual(letter.source, raw.source);
      assert.deepEqual(letter.key, raw.key);
      assert.deepEqual(letter.value, raw.value);
      // Sluice's own headers win over same-named originals, so those cannot be told apart: leave them out.
      const originals = Object.entries(r.headers).filter(
        ([k]) => !/^sluice\.(error|source)\.|^sluice\.topology$/.test(k),
      );
      assert.deepEqual(Object.entries(letter.headers).sort(), originals.sort());
    }),
  );
});

test('a letter cut to fit, or holding a compressed batch, says it cannot be replayed', () => {
  const raw: RawRecord = {
    key: Buffer.from('k'),
    value: Buffer.alloc(5000, 1),
    headers: { trace: 't' },
    source: { topic: 'events', partition: 1, offset: '7', timestamp: 1 },
  };
  const cut = parseDeadLetter(asFetched(deadLetterMessage('fraud', raw, { code: 'X', message: 'm' }, 3000)));
  assert.ok(!(cut instanceof Error));
  assert.match(cut.notReplayable ?? '', /headers were dropped|value was cut/);
  const batch = parseDeadLetter(
    asFetched(deadLetterMessage('fraud', raw, { code: 'UNDECOMPRESSABLE_BATCH', message: 'm' })),
  );
  assert.ok(!(batch instanceof Error));
  assert.match(batch.notReplayable ?? '', /compressed batch/);
  assert.ok(parseDeadLetter(asFetched({ key: 'k', value: 'v', headers: {} })) instanceof Error);
});

test('a replay goes back to its own partition with its headers, or to another topic by key', () => {
  const letter: DeadLetter = {
    reason: { code: 'X', message: 'm' },
    topology: 'fraud',
    source: { topic: 'events', partition: 4, offset: '9', timestamp: 1_700_000_000_123 },
    key: Buffer.from('card-1'),
    value: Buffer.from('{}'),
    headers: JSON.parse('{"__proto__":"p","trace":"t"}') as Record<string, string>,
  };
  const back = replayMessage(letter, 'fraud.dlq/17', 'events');
  assert.equal(back.partition, 4);
  assert.equal(back.timestamp, undefined, 'a new timestamp: an old one could fall to time-based retention');
  assert.deepEqual(back.key, letter.key);
  assert.deepEqual(back.value, letter.value);
  const headers = back.headers as Record<string, string>;
  assert.equal(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value, 'p');
  assert.equal(headers.trace, 't');
  assert.equal(headers[REPLAY_OF_HEADER], 'fraud.dlq/17');
  assert.equal(headers[REPLAY_TIMESTAMP_HEADER], '1700000000123');
  assert.equal(replayMessage(letter, 'fraud.dlq/17', 'events.repaired').partition, undefined);
});
