/**
 * SIGTERM can land while kafkajs is between a consumer crash and its scheduled restart. kafkajs has then
 * torn down the consumer group, so pausing it throws; stop() must still finish (exit 0, not 1) and cancel
 * the restart, or a member nobody owns rejoins the group and keeps the process alive.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerRunConfig, Kafka } from 'kafkajs';
import { kafkaSink, jsonValue } from '../../connectors/kafka/kafka-sink.js';
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
  watchedKafka,
} from '../support/kafka.js';

const kafka = testKafka();
const created: string[] = [];
/** Every worker started, stopped again at the end: a failed assertion must not leave one restarting. */
const workers: TopologyWorker[] = [];
after(async () => {
  await Promise.all(workers.map((w) => w.stop().catch(() => undefined)));
  await deleteTopics(kafka, created);
});

/** What the consumer did, as seen through its own instrumentation events. */
interface ConsumerLog {
  crashes: { restart: boolean }[];
  joins: number;
  /** Transactional producers connected after the injected delay. */
  slowConnects?: number;
  /** Sends through the shared (non-transactional) producer after its disconnect() was called. */
  sendsAfterDisconnect: number;
  /** Writes of the slow sink started and finished. */
  slowWrites: { started: number; finished: number };
}

/**
 * Writes through the worker's shared producer, each write after `delayMs`: a write is still under way
 * when a crash drops its pipeline.
 */
function slowSink(topic: string, log: ConsumerLog, delayMs: number): Sink<{ id: number }> {
  return {
    name: `slow:${topic}`,
    topics: [{ topic }],
    open: async (env) => ({
      write: async (records) => {
        log.slowWrites.started += 1;
        await sleep(delayMs);
        await env.producer.send({
          topic,
          messages: records.map((r) => ({ key: r.key, value: JSON.stringify(r.value) })),
        });
        log.slowWrites.finished += 1;
      },
      close: async () => undefined,
    }),
  };
}

/**
 * When the injected batch failure comes:
 * - first-batch: the consumer's first batch fails;
 * - until-crash: every batch fails until the crash (kafkajs crashes the consumer only once all batches in
 *   flight have ended, and one waiting for a slow restore would hold it back);
 * - once-writing: batches go through until a slow sink write has started, then fail until the crash.
 */
type FailurePolicy = 'first-batch' | 'until-crash' | 'once-writing';

/**
 * `base`, whose consumer fails a batch as `policy` says: with no retries left, kafkajs crashes the
 * consumer and schedules a restart, as it does after a fetch error outlives its retries.
 */
function crashingConsumer(
  base: Kafka,
  log: ConsumerLog,
  policy: FailurePolicy,
  slowTransactionalConnectMs = 0,
): Kafka {
  return watchedKafka(base, {
    // Slow transactional producers keep an assignment's state restore (which fences them first) running.
    producer: (producer, config) => {
      if (!config?.transactionalId) {
        // A send after disconnect() is a write stop() did not wait for: stock kafkajs reconnected for it (a
        // connection that outlived stop()), the patched one fails it (records replayed after a restart).
        let disconnected = false;
        const disconnect = producer.disconnect.bind(producer);
        producer.disconnect = async () => {
          disconnected = true;
          await disconnect();
        };
        const send = producer.send.bind(producer);
        producer.send = async (record) => {
          if (disconnected) log.sendsAfterDisconnect += 1;
          return send(record);
        };
        return;
      }
      if (slowTransactionalConnectMs === 0) return;
      const connect = producer.connect.bind(producer);
      producer.connect = async () => {
        await new Promise((r) => setTimeout(r, slowTransactionalConnectMs));
        log.slowConnects = (log.slowConnects ?? 0) + 1;
        await connect();
      };
    },
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
            const fail =
              policy === 'first-batch'
                ? !failed
                : log.crashes.length === 0 && (policy === 'until-crash' || log.slowWrites.started > 0);
            if (fail) {
              failed = true;
              throw new Error('injected fetch failure');
            }
            await runConfig?.eachBatch?.(payload);
          },
        });
    },
  });
}

/**
 * A worker over a fresh 2-partition topic of 20 records, started on `crashingConsumer`, returned once its
 * consumer crashed (asserted: once, with a restart scheduled). With a slow sink, the crash comes once a
 * write has started: one more record is produced then, so that a batch arrives to fail.
 */
async function startUntilCrash(
  prefix: string,
  {
    slowTransactionalConnectMs = 0,
    slowSinkMs = 0,
  }: { slowTransactionalConnectMs?: number; slowSinkMs?: number } = {},
) {
  const policy: FailurePolicy =
    slowSinkMs > 0 ? 'once-writing' : slowTransactionalConnectMs > 0 ? 'until-crash' : 'first-batch';
  const name = uniqueName(prefix);
  created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
  await createTopic(kafka, `${name}.in`, 2);
  await produce(
    kafka,
    `${name}.in`,
    Array.from({ length: 20 }, (_, id) => ({ key: `k${id}`, value: JSON.stringify({ id }) })),
  );
  const log: ConsumerLog = {
    crashes: [],
    joins: 0,
    sendsAfterDisconnect: 0,
    slowWrites: { started: 0, finished: 0 },
  };
  const worker = new TopologyWorker(
    topology(name)
      .from(kafkaSource(`${name}.in`, { fromBeginning: true }))
      .pipe(decode(jsonDecoder<{ id: number }>()))
      .to(
        slowSinkMs > 0
          ? slowSink(`${name}.out`, log, slowSinkMs)
          : kafkaSink({ topic: `${name}.out`, serialize: jsonValue }),
      ),
    {
      instanceId: 'a',
      kafka: crashingConsumer(kafka, log, policy, slowTransactionalConnectMs),
      endpoints,
    },
  );
  workers.push(worker);
  const failures: Error[] = [];
  worker.onFatal((err) => failures.push(err));
  await worker.start();
  const deadline = Date.now() + 60_000;
  if (policy === 'once-writing') {
    while (log.slowWrites.started === 0 && Date.now() < deadline) await sleep(10);
    assert.ok(log.slowWrites.started > 0, 'the slow sink started a write');
    await produce(kafka, `${name}.in`, [{ key: 'k-last', value: JSON.stringify({ id: 20 }) }]);
  }
  while (log.crashes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(log.crashes, [{ restart: true }], 'the injected failure crashed the consumer');
  return { name, worker, log, fatal: () => failures[0] };
}

test(
  'stop() between a consumer crash and its restart finishes and cancels the restart',
  { timeout: 120_000 },
  async () => {
    const { name, worker, log, fatal } = await startUntilCrash('stop-crash');
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
    assert.equal(fatal(), undefined, 'a restartable crash is not fatal');
  },
);

test(
  'stop() right after a crash, while the crashed assignment still restores: it waits, and nothing fails',
  { timeout: 120_000 },
  async () => {
    const { worker, log, fatal } = await startUntilCrash('stop-restoring', {
      slowTransactionalConnectMs: 1000,
    });
    assert.equal(log.slowConnects ?? 0, 0, 'the restore was still opening its producers at the crash');

    // Before the fix, stop() closed the producers under the restore: "Closed connection" was reported
    // as a failed restore (fatal), and the dropped restore surfaced as an unhandled rejection.
    await worker.stop();
    assert.equal(log.slowConnects, 2, 'stop() waited for the restore to open both producers');
    assert.equal(fatal(), undefined, 'a restore cut short by stop() is not a failure');
  },
);

test(
  "stop() right after a crash lets the dropped pipeline's sink write finish before closing the producer",
  { timeout: 120_000 },
  async () => {
    const { worker, log, fatal } = await startUntilCrash('stop-writing', { slowSinkMs: 3000 });
    assert.ok(log.slowWrites.started >= 1, 'a sink write was under way at the crash');
    assert.equal(log.slowWrites.finished, 0, 'and had not finished');

    // Before the fix, stop() disconnected the shared producer under that write; its send then reconnected
    // the producer, and the connection kept the process alive after stop().
    await worker.stop();
    assert.equal(log.slowWrites.finished, log.slowWrites.started, 'stop() waited for the write');
    assert.equal(log.sendsAfterDisconnect, 0, 'nothing was sent through the producer after its disconnect');
    assert.equal(fatal(), undefined);
  },
);
