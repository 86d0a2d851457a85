/**
 * Backpressure: while a sink is stuck, the worker pauses the partitions and holds a bounded number of
 * records, whatever the backlog; once the sink recovers everything flows and nothing is lost.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Sink } from '../../connectors/sink.js';
import { decode } from '../../operators/decode.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { jsonDecoder } from '../support/json-decoder.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  produce,
  testKafka,
  topologyTopics,
  uniqueName,
} from '../support/kafka.js';

const kafka = testKafka();
const name = uniqueName('backpressure');
const source = `${name}.in`;
const TOTAL = 40_000;
const BARRIER_EVERY = 100;
const MAX_OUTSTANDING = 2;
const FETCH_BYTES = 256 * 1024; // passed as the worker's maxBytesPerPartition

test(
  'a stuck sink pauses the partitions and bounds memory; recovery delivers everything',
  { timeout: 180_000 },
  async () => {
    await createTopic(kafka, source, 2);
    const payload = 'x'.repeat(80);
    await produce(
      kafka,
      source,
      Array.from({ length: TOTAL }, (_, i) => ({ key: `k${i % 50}`, value: JSON.stringify({ i, payload }) })),
      5000,
    );

    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    const seen = new Set<number>();
    const sink: Sink<{ i: number }> = {
      name: 'stuck-then-fine',
      async open() {
        return {
          async write(records) {
            await stuck;
            for (const r of records) seen.add(r.value.i);
          },
          async close() {},
        };
      },
    };
    const t = topology(name).from(kafkaSource(source)).pipe(decode(jsonDecoder<{ i: number }>())).to(sink);
    const worker = new TopologyWorker(t, {
      instanceId: 'bp',
      kafka,
      endpoints,
      barrierEveryRecords: BARRIER_EVERY,
      maxOutstandingBarriers: MAX_OUTSTANDING,
      maxBytesPerPartition: FETCH_BYTES,
    });
    await worker.start();
    try {
      // While stuck: sample what the worker holds.
      let maxHeld = 0;
      let sawPaused = false;
      const until = Date.now() + 6000;
      while (Date.now() < until) {
        maxHeld = Math.max(maxHeld, worker.heldRecords);
        sawPaused ||= worker.pausedPartitionCount > 0;
        await new Promise((r) => setTimeout(r, 50));
      }
      // Per partition: the unfinished checkpoints' records, plus at most two fetched batches in the buffer.
      const recordBytes = 100;
      const bound = 2 * (MAX_OUTSTANDING * BARRIER_EVERY + (2 * FETCH_BYTES) / recordBytes);
      assert.ok(sawPaused, 'the partitions were paused while the sink was stuck');
      assert.ok(maxHeld > 0, 'the worker did fetch records');
      assert.ok(maxHeld <= bound, `held ${maxHeld} records; the bound is ${bound} (backlog ${TOTAL})`);
      assert.equal(seen.size, 0, 'nothing was written while the sink was stuck');
      console.log(`# held at most ${maxHeld} records (bound ${bound}) of a ${TOTAL}-record backlog`);

      release();
      const deadline = Date.now() + 120_000;
      while (seen.size < TOTAL) {
        assert.ok(Date.now() < deadline, `only ${seen.size} of ${TOTAL} records arrived after recovery`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(worker.pausedPartitionCount, 0, 'partitions resumed');
    } finally {
      release();
      await worker.stop();
    }
  },
);

after(async () => {
  await deleteTopics(kafka, [source, ...topologyTopics(name)]);
});
