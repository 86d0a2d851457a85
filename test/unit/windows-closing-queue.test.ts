/**
 * The closing queue against a brute-force reference: a plain list of scheduled (closeAt, id) pairs, of
 * which popDue removes every pair at or below the watermark and reports their distinct ids.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ClosingQueue } from '../../operators/windows/closing-queue.js';

type Op = { kind: 'schedule'; at: number; id: string } | { kind: 'pop'; watermark: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('schedule' as const),
    at: fc.integer({ min: 0, max: 30 }),
    id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  }),
  fc.record({ kind: fc.constant('pop' as const), watermark: fc.integer({ min: -1, max: 35 }) }),
);

test('popDue returns exactly the distinct ids scheduled at or below the watermark, once', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const queue = new ClosingQueue();
      let pending: { at: number; id: string }[] = [];
      for (const o of ops) {
        if (o.kind === 'schedule') {
          queue.schedule(o.at, o.id);
          if (!pending.some((p) => p.at === o.at && p.id === o.id)) pending.push({ at: o.at, id: o.id });
        } else {
          const expected = [...new Set(pending.filter((p) => p.at <= o.watermark).map((p) => p.id))].sort();
          pending = pending.filter((p) => p.at > o.watermark);
          assert.deepEqual([...queue.popDue(o.watermark)].sort(), expected);
        }
        assert.equal(queue.size, pending.length);
      }
    }),
    { numRuns: 500 },
  );
});
