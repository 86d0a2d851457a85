/**
 * Training on a worker thread: the same parameters as training in place (it is the same deterministic
 * code, only elsewhere), the caller's event loop keeps turning while it runs, and a training error
 * comes back as a rejection instead of a dead worker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainLogisticRegression } from '../../services/trainer/logistic-regression.js';
import { trainOffThread } from '../../services/trainer/retrain/train-off-thread.js';
import { generateTxnRiskData } from '../../services/trainer/synthetic-data.js';

test('off-thread training returns what training in place returns', async () => {
  const data = generateTxnRiskData({ rows: 2000, seed: 7 });
  const options = { epochs: 50 };
  const inPlace = trainLogisticRegression(data, options);
  const offThread = await trainOffThread(data, options);
  assert.deepEqual(offThread.featureNames, [...inPlace.featureNames]);
  assert.deepEqual(Array.from(offThread.weights), Array.from(inPlace.weights));
  assert.deepEqual(Array.from(offThread.mean), Array.from(inPlace.mean));
  assert.deepEqual(Array.from(offThread.std), Array.from(inPlace.std));
  assert.equal(offThread.bias, inPlace.bias);
});

test("the caller's event loop keeps turning during a long training", async () => {
  const data = generateTxnRiskData({ rows: 50_000, seed: 3 });
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 5);
  try {
    // Training in place is synchronous: no timer could fire before it returned, so ticks would stay 0.
    await trainOffThread(data, { epochs: 400 });
    assert.ok(ticks > 0, `the timer ticked ${ticks} times while training ran`);
  } finally {
    clearInterval(timer);
  }
});

test('a training error is a rejection with its message', async () => {
  const data = generateTxnRiskData({ rows: 1, seed: 1 });
  await assert.rejects(trainOffThread(data), /need at least 2 training rows/);
});
