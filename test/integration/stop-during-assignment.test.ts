/**
 * stop() called while the worker is still applying a partition assignment (fencing its transactional
 * producers, restoring state) must wait for that work and then close what it opened. Otherwise the
 * producers opened after stop() closed the others stay connected, and an embedding process never exits.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Consumer, Kafka } from 'kafkajs';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
import { decode } from '../../operators/decode.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import { jsonDecoder } from '../support/json-decoder.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  testKafka,
  topologyTopics,
  uniqueName,
  watchedKafka,
  withAdmin,
} from '../support/kafka.js';

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

/** `kafka`, counting the producers it hands out that are connected right now. */
function countingProducers(base: Kafka): { kafka: Kafka; connected: () => number } {
  let connected = 0;
  const counted = watchedKafka(base, {
    producer: (producer) => {
      producer.on(producer.events.CONNECT, () => (connected += 1));
      producer.on(producer.events.DISCONNECT, () => (connected -= 1));
    },
  });
  return { kafka: counted, connected: () => connected };
}

test(
  'stop() during an assignment waits for it and leaves nothing running',
  { timeout: 120_000 },
  async () => {
    const name = uniqueName('stop-assign');
    created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
    await createTopic(kafka, `${name}.in`, 6);
    const counting = countingProducers(kafka);
    const worker = new TopologyWorker(
      topology(name)
        .from(kafkaSource(`${name}.in`))
        .pipe(decode(jsonDecoder<{ id: number }>()))
        .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue })),
      { instanceId: 'a', kafka: counting.kafka, endpoints },
    );
    // Stop from the group-join event itself: the worker has just begun applying the assignment (its own
    // listener ran first) and is about to fence and restore six partitions.
    let stopCalled = false;
    let restartsAfterStop = 0;
    const stopped = new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        const consumer = (worker as unknown as { consumer?: Consumer }).consumer;
        if (!consumer) return;
        clearInterval(poll);
        consumer.on(consumer.events.GROUP_JOIN, () => {
          if (stopCalled) return;
          stopCalled = true;
          worker.stop().then(resolve, reject);
        });
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          if (stopCalled && payload.restart) restartsAfterStop += 1;
        });
      }, 1);
      poll.unref(); // a start() that fails must fail the test, not keep it alive
    });
    await worker.start();
    await stopped;
    // Whatever the assignment opened late would connect, and a restarted consumer crash, in this time.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(counting.connected(), 0, 'producers still connected after stop()');
    assert.equal(restartsAfterStop, 0, 'the consumer restarted after stop()');
  },
);

test(
  'stop() while start() is still connecting waits for it and leaves nothing running',
  { timeout: 120_000 },
  async () => {
    const name = uniqueName('stop-start');
    created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
    await createTopic(kafka, `${name}.in`, 3);
    let producers = 0;
    let consumers = 0;
    const watched = watchedKafka(kafka, {
      producer: (p) => {
        p.on(p.events.CONNECT, () => (producers += 1));
        p.on(p.events.DISCONNECT, () => (producers -= 1));
      },
      consumer: (c) => {
        c.on(c.events.CONNECT, () => (consumers += 1));
        c.on(c.events.DISCONNECT, () => (consumers -= 1));
      },
    });
    const worker = new TopologyWorker(
      topology(name)
        .from(kafkaSource(`${name}.in`))
        .pipe(decode(jsonDecoder<{ id: number }>()))
        .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue })),
      { instanceId: 'a', kafka: watched, endpoints },
    );
    // What an orchestrator's SIGTERM (or a test's cleanup) does to a worker it has just started.
    const started = worker.start();
    await new Promise((r) => setImmediate(r));
    await worker.stop();
    await started;
    // Whatever the start connected after stop() began would show up, and join the group, in this time.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(producers, 0, 'producers still connected after stop()');
    assert.equal(consumers, 0, 'a consumer still connected after stop()');
    const { groups } = await withAdmin(kafka, (admin) => admin.describeGroups([name]));
    assert.equal(groups[0]?.members.length ?? 0, 0, 'a member is still in the group');
  },
);
