/** The terminal sink stage: barriers wait for writes, transient errors are retried, refusals are dead-lettered. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { from, lastValueFrom, toArray } from 'rxjs';
import type { SinkWriter } from '../../connectors/sink.js';
import type { DeadLetterReason, Element, StreamRecord } from '../../schemas/stream.js';
import { sinkStage } from '../../topologies/runtime/sink-stage.js';

const record = (value: string, offset: number): StreamRecord<string> => ({
  kind: 'record',
  value,
  key: value,
  eventTime: offset,
  source: { topic: 't', partition: 0, offset: String(offset), timestamp: offset },
  headers: {},
});

test('transient failures are retried, a permanently refused record is rejected alone, barriers come after writes', async () => {
  const written: string[] = [];
  const events: string[] = [];
  let transientLeft = 2;
  const writer: SinkWriter<string> = {
    async write(batch) {
      if (transientLeft > 0) {
        transientLeft -= 1;
        throw Object.assign(new Error('connection refused'), { retriable: true });
      }
      if (batch.some((r) => r.value === 'poison')) {
        throw Object.assign(new Error('message too large'), { retriable: false });
      }
      for (const r of batch) written.push(r.value);
      events.push(`write:${batch.map((r) => r.value).join(',')}`);
    },
    async close() {},
  };
  const rejected: { value: unknown; reason: DeadLetterReason }[] = [];
  const input: Element<string>[] = [
    record('a', 0),
    record('poison', 1),
    record('c', 2),
    { kind: 'barrier', id: 1, partition: 0, nextOffset: '3' },
    record('d', 3),
    { kind: 'barrier', id: 2, partition: 0, nextOffset: '4' },
  ];
  const out = await lastValueFrom(
    from(input).pipe(
      sinkStage(writer, {
        name: 'test-sink',
        maxBatch: 100,
        logger: pino({ level: 'silent' }),
        maxRetryDelayMs: 5,
        reject: (r, reason) => {
          rejected.push({ value: r.value, reason });
          events.push(`reject:${String(r.value)}`);
        },
      }),
      toArray(),
    ),
  );
  assert.deepEqual(written, ['a', 'c', 'd']);
  assert.deepEqual(
    rejected.map((r) => [r.value, r.reason.code]),
    [['poison', 'SINK_REJECTED']],
  );
  assert.match(rejected[0]?.reason.message ?? '', /message too large/);
  assert.deepEqual(
    out.map((b) => b.id),
    [1, 2],
  );
  assert.deepEqual(events, ['write:a', 'reject:poison', 'write:c', 'write:d']);
});
