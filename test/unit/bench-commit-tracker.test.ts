/** The throughput bench's end-of-run detection: done only once every partition's commits reach its end. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommitTracker } from '../bench/commit-watch.js';

const ends = new Map([
  [0, 10n],
  [1, 5n],
]);

test('done once every partition has committed its end offset, in any order and from any worker', async () => {
  const tracker = new CommitTracker();
  let done = false;
  const reached = tracker.doneWithin(1000).then(() => (done = true));
  tracker.add({ partition: 1, nextOffset: '5' }); // a commit may arrive before the ends are known
  tracker.expect(ends);
  tracker.add({ partition: 0, nextOffset: '9' });
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'partition 0 is one event short');
  tracker.add({ partition: 0, nextOffset: '10' });
  await reached;
  assert.equal(done, true);
});

test('an older commit arriving late does not move a partition back', async () => {
  const tracker = new CommitTracker();
  tracker.expect(ends);
  tracker.add({ partition: 0, nextOffset: '10' });
  tracker.add({ partition: 0, nextOffset: '3' });
  tracker.add({ partition: 1, nextOffset: '5' });
  await tracker.doneWithin(1000);
});

test('a run that never reaches the end fails, naming the partitions behind', async () => {
  const tracker = new CommitTracker();
  tracker.expect(ends);
  tracker.add({ partition: 0, nextOffset: '10' });
  await assert.rejects(tracker.doneWithin(20), /partition 1 at nothing of 5.*after 20 ms/);
});
