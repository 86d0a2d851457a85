/** The worker's record of work under way (restores, sink writes), which stop() lets settle before closing clients. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SinkWriter } from '../../connectors/sink.js';
import { InFlight } from '../../topologies/runtime/in-flight.js';

test('settled() waits for tracked writes, failed ones included, and then forgets them', async () => {
  const inFlight = new InFlight();
  let finished = 0;
  void inFlight.track(sleep(40).then(() => (finished += 1)));
  inFlight.track(sleep(20).then(() => Promise.reject(new Error('refused')))).catch(() => undefined);
  assert.equal(inFlight.size, 2);
  assert.equal(await inFlight.settled(5000), true);
  assert.equal(finished, 1, 'settled() resolved only after the slow write');
  assert.equal(inFlight.size, 0);
});

test('settled() gives up after its bound and says so', async () => {
  const inFlight = new InFlight();
  void inFlight.track(new Promise(() => undefined));
  const started = Date.now();
  assert.equal(await inFlight.settled(30), false);
  assert.ok(Date.now() - started < 1000);
  assert.equal(inFlight.size, 1, 'the stuck write is still counted');
});

test('a tracked writer passes writes through and counts them while they run', async () => {
  const inFlight = new InFlight();
  const seen: number[][] = [];
  let closed = false;
  const writer: SinkWriter<number> = {
    write: async (records) => {
      await sleep(20);
      seen.push(records.map((r) => r.value));
    },
    close: async () => void (closed = true),
  };
  const tracked = inFlight.writer(writer);
  const record = { kind: 'record', value: 7, key: 'k', eventTime: 0, headers: {} } as never;
  const write = tracked.write([record]);
  assert.equal(inFlight.size, 1);
  await write;
  assert.deepEqual(seen, [[7]]);
  assert.equal(inFlight.size, 0);
  await tracked.close();
  assert.equal(closed, true);
});
