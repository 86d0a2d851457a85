/**
 * A worker that was replaced but still runs (a long GC pause, a network partition: the group gave its
 * partitions to someone else) must not commit state or offsets for them any more. kafkajs has no
 * KIP-447 generation fencing, so each source partition has its own transactional id and the next owner
 * fences every earlier one by initializing it. Here the "next owner" initializes partition 0's id while
 * a worker is mid-stream: the worker's later commits for partition 0 must fail, nothing it writes
 * afterwards for partition 0 may become visible, and the worker must stop instead of carrying on.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { jsonValue, kafkaSink } from '../../connectors/kafka/kafka-sink.js';
import { TransactionalCommitter } from '../../connectors/kafka/transactional-commit.js';
import { aggregate, count } from '../../operators/aggregate/index.js';
import { decode } from '../../operators/decode.js';
import { keyBy } from '../../operators/key-by.js';
import { tumbling, window } from '../../operators/windows/index.js';
import { kafkaSource, topology } from '../../topologies/builder.js';
import { partitionTransactionalId, TopologyWorker } from '../../topologies/runtime/worker.js';
import { jsonDecoder } from '../support/json-decoder.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  groupOffsets,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';

interface Event {
  id: number;
  key: string;
  ts: number;
}

const kafka = testKafka();
const created: string[] = [];

const events = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => {
    const id = from + i;
    const e: Event = { id, key: `k${id % 40}`, ts: 1_700_000_000_000 + id * 50 };
    return { key: e.key, value: JSON.stringify(e) };
  });

test('the next owner of a partition fences the previous one: its later commits fail and stay invisible', async () => {
  const name = uniqueName('fence');
  const source = `${name}.in`;
  created.push(source, `${name}.out`, ...topologyTopics(name));
  await createTopic(kafka, source, 2);
  await produce(kafka, source, events(0, 2000));

  const t = topology(name)
    .from(kafkaSource(source))
    .pipe(
      decode(jsonDecoder<Event>(), { eventTime: (e) => e.ts, maxAgeMs: 10 * 365 * 86_400_000 }),
      keyBy((e) => e.key),
      window(tumbling('10s'), { aggregate: aggregate({ n: count() }) }),
    )
    .to(kafkaSink({ topic: `${name}.out`, serialize: jsonValue }));
  const worker = new TopologyWorker(t, {
    instanceId: 'replaced',
    kafka,
    endpoints,
    barrierEveryRecords: 200,
    barrierIntervalMs: 100,
  });
  const fatal = new Promise<Error>((resolve) => worker.onFatal(resolve));
  await worker.start();
  let newOwner: TransactionalCommitter | undefined;
  try {
    await waitForCommittedEnd(kafka, name, source, 60_000);
    const before = await groupOffsets(kafka, name, source);
    const changelogBefore = (await readAll(kafka, `${name}-changelog`)).filter((m) => m.partition === 0);

    // The group "moved" partition 0: its next owner initializes the partition's transactional id.
    newOwner = new TransactionalCommitter(kafka, {
      transactionalId: partitionTransactionalId(name, 0),
      groupId: name,
      sourceTopic: source,
      changelogTopic: `${name}-changelog`,
    });
    await newOwner.connect();

    // The replaced worker keeps consuming; its next checkpoint for partition 0 must be refused.
    await produce(kafka, source, events(2000, 2000));
    const error = await Promise.race([
      fatal,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000)),
    ]);
    assert.ok(error, 'the fenced worker stopped with an error instead of carrying on');
    assert.match(String(error), /fenc|epoch/i, `a fencing error, got: ${String(error)}`);

    const after = await groupOffsets(kafka, name, source);
    assert.equal(after.get(0), before.get(0), 'no offset was committed for partition 0 after the fence');
    const changelogAfter = (await readAll(kafka, `${name}-changelog`)).filter((m) => m.partition === 0);
    assert.equal(
      changelogAfter.length,
      changelogBefore.length,
      'no changelog record for partition 0 became visible after the fence',
    );
  } finally {
    await worker.stop();
    await newOwner?.close();
  }
});

test('connecting with a partition id aborts the transaction an earlier owner left open', async () => {
  const name = uniqueName('fence-open');
  const changelog = `${name}-changelog`;
  created.push(changelog, `${name}.in`);
  await createTopic(kafka, changelog, 1);
  await createTopic(kafka, `${name}.in`, 1);
  const id = partitionTransactionalId(name, 0);
  const zombie = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  await zombie.connect();
  const tx = await zombie.transaction();
  await tx.send({ topic: changelog, messages: [{ key: 'window\u0000k', value: '{"n":999}' }] });

  const owner = new TransactionalCommitter(kafka, {
    transactionalId: id,
    groupId: name,
    sourceTopic: `${name}.in`,
    changelogTopic: changelog,
  });
  // Connecting alone must fence (kafkajs initializes a transactional id lazily, at the first transaction).
  await owner.connect();
  await assert.rejects(tx.commit(), 'the earlier owner cannot commit what it left open');
  await owner.commit([
    { partition: 0, nextOffset: '0', changelog: [{ key: 'window\u0000k', value: '{"n":1}' }] },
  ]);
  const visible = await readAll(kafka, changelog);
  assert.deepEqual(
    visible.map((m) => m.value?.toString()),
    ['{"n":1}'],
    "only the new owner's record is visible to read_committed readers",
  );
  await zombie.disconnect().catch(() => undefined);
  await owner.close();
});

after(async () => {
  await deleteTopics(kafka, created);
});
