/**
 * Partitions added to a running topology's source. The topology's changelog, dead-letter and late topics
 * keep one partition per source partition, and kafkajs used to drop records sent to a partition that does
 * not exist while reporting success: the new partition's state and dead letters vanished, and its offsets
 * were committed anyway. Now the worker refuses the new partition, naming the fix; a restart refuses too
 * until `sluice topics align`; then everything is processed exactly once.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { Kafka, Message } from 'kafkajs';
import { coPartitionedTopics } from '../../connectors/kafka/co-partitioned.js';
import { partitionCount } from '../../connectors/kafka/topics.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  groupOffsets,
  produce,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
  watchedKafka,
  withAdmin,
} from '../support/kafka.js';
import {
  assertWindowsEqualReference,
  countSumTopology,
  WINDOW_MS,
  type KeyedEvent,
} from '../support/window-reference.js';
import { runSluice, tempAuditLog } from '../support/sluice-cli.js';

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

/** `base`, whose consumers refresh metadata every 2 s instead of 5 min, so they see new partitions soon. */
const quickToSeeNewPartitions = (base: Kafka) =>
  watchedKafka(base, { consumerConfig: (config) => ({ ...config, metadataMaxAge: 2000 }) });

const partitionCounts = (topics: readonly string[]) =>
  withAdmin(kafka, (admin) => Promise.all(topics.map((t) => partitionCount(admin, t))));

test(
  'a producer send to a partition the topic lacks fails instead of vanishing',
  { timeout: 60_000 },
  async () => {
    const topic = uniqueName('no-such-partition');
    created.push(topic);
    await createTopic(kafka, topic, 2);
    const producer = kafka.producer({ retry: { retries: 1, initialRetryTime: 100 } });
    await producer.connect();
    try {
      await assert.rejects(
        producer.send({ topic, messages: [{ partition: 5, value: 'lost' }] }),
        /has no partition 5 \(it has 2\); those records were not sent/,
      );
    } finally {
      await producer.disconnect();
    }
  },
);

test(
  'partitions added to a running source are refused until aligned, then processed exactly once',
  { timeout: 240_000 },
  async () => {
    const name = uniqueName('grow');
    const source = `${name}.in`;
    created.push(source, `${name}.out`, ...topologyTopics(name));
    await createTopic(kafka, source, 2);
    const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 3_600_000;
    const event = (id: number, ts: number): KeyedEvent => ({
      id,
      key: `card-${id % 30}`,
      ts,
      amount: 1 + (id % 7),
    });
    const toMessage = (e: KeyedEvent): Message => ({ key: e.key, value: JSON.stringify(e) });
    // Each partition's watermark passes its open windows only with a later event on that partition. The
    // first round's flushes are themselves closed by the second's, so they count in the reference.
    const flushEvents = (partitions: number, ts: number): KeyedEvent[] =>
      Array.from({ length: partitions }, (_, p) => ({ id: -1 - p, key: `flush-${p}`, ts, amount: 0 }));
    const flushes = (events: readonly KeyedEvent[]): Message[] =>
      events.map((e, partition) => ({ ...toMessage(e), partition }));
    const firstFlush = flushEvents(2, t0 + 300_000);
    // Before and after the change, in windows far apart, so no window straddles it (keys move partitions).
    const before = Array.from({ length: 2000 }, (_, id) => event(id, t0 + id * 20));
    const afterChange = Array.from({ length: 2000 }, (_, i) => event(2000 + i, t0 + 600_000 + i * 20));
    const workerKafka = quickToSeeNewPartitions(kafka);
    const newWorker = () =>
      new TopologyWorker(countSumTopology(name), {
        instanceId: 'a',
        kafka: workerKafka,
        endpoints,
        barrierIntervalMs: 200,
      });

    const first = newWorker();
    const fatal = new Promise<Error>((resolve) => first.onFatal(resolve));
    await first.start();
    try {
      await produce(kafka, source, [...before.map(toMessage), ...flushes(firstFlush)]);
      await waitForCommittedEnd(kafka, name, source, 60_000);

      await withAdmin(kafka, (admin) =>
        admin.createPartitions({ topicPartitions: [{ topic: source, count: 3 }] }),
      );
      await produce(kafka, source, afterChange.map(toMessage));
      const refused = await Promise.race([
        fatal,
        new Promise<Error>((_, reject) =>
          setTimeout(
            () => reject(new Error('the worker did not refuse the new partition in 60 s')),
            60_000,
          ).unref(),
        ),
      ]);
      assert.match(refused.message, /source partitions beyond those cannot be processed/);
      assert.match(refused.message, new RegExp(`sluice topics align ${name} --source ${source}`));
    } finally {
      await first.stop();
    }
    const offsets = await groupOffsets(kafka, name, source);
    assert.ok(!offsets.has(2) || offsets.get(2) === '-1', `partition 2 was committed: ${offsets.get(2)}`);

    // A restart refuses at once, with the same advice.
    await assert.rejects(newWorker().start(), /sluice topics align/);

    const audit = tempAuditLog('sluice-align');
    const align = runSluice(['topics', 'align', name, '--source', source], {
      env: { SLUICE_AUDIT_LOG: audit, SLUICE_ACTOR: 'ops' },
    });
    assert.equal(align.status, 0, align.stderr);
    assert.match(align.stdout, new RegExp(`${name}-changelog: 2 -> 3 partitions`));
    assert.deepEqual(await partitionCounts(coPartitionedTopics(name)), [3, 3, 3]);
    const entries = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; actor: string });
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor]),
      [['topics.align', 'ops']],
    );

    const second = newWorker();
    await second.start();
    try {
      await produce(kafka, source, flushes(flushEvents(3, t0 + 1_200_000)));
      await waitForCommittedEnd(kafka, name, source, 60_000);
    } finally {
      await second.stop();
    }
    await assertWindowsEqualReference(kafka, `${name}.out`, [...before, ...firstFlush, ...afterChange]);
  },
);
