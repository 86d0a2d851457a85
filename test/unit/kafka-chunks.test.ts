/** Produce calls are split so no record batch can exceed the broker's message.max.bytes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { chunksBySize } from '../../connectors/kafka/chunks.js';

test('chunks keep order, lose nothing and stay under the budget unless one record alone exceeds it', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 300 }),
      fc.integer({ min: 100, max: 20_000 }),
      (sizes, budget) => {
        const messages = sizes.map((n, i) => ({ key: `k${i}`, value: Buffer.alloc(n) }));
        const chunks = [...chunksBySize(messages, budget)];
        assert.deepEqual(chunks.flat(), messages);
        for (const chunk of chunks) {
          const bytes = chunk.reduce((a, m) => a + m.value.length + m.key.length + 64, 0);
          assert.ok(chunk.length === 1 || bytes <= budget, `chunk of ${bytes} bytes over a ${budget} budget`);
          assert.ok(chunk.length > 0);
        }
      },
    ),
  );
});
