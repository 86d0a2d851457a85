/**
 * SIGTERM can land while kafkajs is between a consumer crash and its scheduled restart. kafkajs has then
 * torn down the consumer group, so pausing it throws; stop() must still finish (exit 0, not 1) and cancel
 * the restart, or a member nobody owns rejoins the group and keeps the process alive.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ConsumerRunConfig, Kafka } from 'kafkajs';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
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
  watchedKafka,
} from '../support/kafka.js';

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

/** What the consumer did, as seen through its own instrumentation events. */
interface ConsumerLog {
  crashes: { restart: boolean }[];
  joins: number;
}

/**
 * `base`, whose consumer fails its first batch: with no retries left, kafkajs crashes the consumer and
 * schedules a restart, as it does after a fetch error outlives its retries.
 */
function crashingOnFirstBatch(base: Kafka, log: ConsumerLog): Kafka {
  return watchedKafka(base, {
    consumerConfig: (config) => ({
      ...config,
      retry: { ...config.retry, retries: 0, initialRetryTime: 1500 },
    }),
    consumer: (consumer) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => log.crashes.push({ restart: payload.restart }));
      consumer.on(consumer.events.GROUP_JOIN, () => (log.joins += 1));
      const run = consumer.run.bind(consumer);
      let failed = false;
      consumer.run = (runConfig?: ConsumerRunConfig) =>
        run({
          ...runConfig,
          eachBatch: async (payload) => {
            if (!failed) {
              failed = true;
              throw new Error('injected fetch failure');
            }
            await runConfig?.eachBatch?.(payload);
          },
        });
    },
  });
}

test(
  'stop() between a consumer crash and its restart finishes and cancels the restart',
  { timeout: 120_000 },
  async () => {
    const name = uniqueName('stop-crash');
    created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
    await createTopic(kafka, `${name}.in`, 2);
    await produce(
      kafka,
      `${name}.in`,
      Array.from({ length: 20 }, (_, id) => ({ key: `k${id}`, value: JSON.stringify({ id }) })),
    );
    const log: ConsumerLog = { crashes: [], joins: 0 };
    const worker = new TopologyWorker(
      topology(name)
        .from(kafkaSource(`${name}.in`, { fromBeginning: true }))
        .pipe(decode(jsonDecoder<{ id: number }>()))
        .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue })),
      { instanceId: 'a', kafka: crashingOnFirstBatch(kafka, log), endpoints },
    );
    let fatal: Error | undefined;
    worker.onFatal((err) => (fatal = err));
    await worker.start();

    const deadline = Date.now() + 60_000;
    while (log.crashes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(log.crashes, [{ restart: true }], 'the injected failure crashed the consumer');
    const joinsBeforeStop = log.joins;

    // The restart is due 1.5 s after the crash: stop well inside that.
    await worker.stop();

    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(log.joins, joinsBeforeStop, 'the consumer rejoined its group after stop()');
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([name]);
      assert.deepEqual(groups[0]?.members ?? [], [], 'the group still has a member after stop()');
    } finally {
      await admin.disconnect();
    }
    assert.equal(fatal, undefined, 'a restartable crash is not fatal');
  },
);
