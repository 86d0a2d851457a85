/** Consumer-group lag per partition read from the real broker, as GET /api/status reports it. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { kafkaLagReader } from '../../services/control/kafka-lag.js';
import { createTopic, produce, testKafka, uniqueName } from '../support/kafka.js';

describe('kafka lag reader', () => {
  let kafka: Kafka;
  let admin: Admin;
  const topic = uniqueName('control-lag');
  const groupId = uniqueName('control-lag-group');

  before(async () => {
    kafka = testKafka();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(kafka, topic, 2);
    // 5 records to partition 0, 3 to partition 1.
    const messages = [0, 0, 0, 0, 0, 1, 1, 1].map((partition, i) => ({ partition, value: `m${i}` }));
    await produce(kafka, topic, messages);
  });
  after(async () => {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('reports end - committed per partition, and everything retained when the group never committed', async () => {
    const reader = kafkaLagReader(admin);
    const before = await reader.lag(groupId, [topic]);
    assert.deepEqual(
      before.map((p) => [p.partition, p.committed, p.end, p.lag]),
      [
        [0, null, '5', 5],
        [1, null, '3', 3],
      ],
    );

    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] });
    const after = await reader.lag(groupId, [topic]);
    assert.deepEqual(
      after.map((p) => [p.partition, p.committed, p.lag]),
      [
        [0, '2', 3],
        [1, null, 3],
      ],
    );
  });

  it('fails fast, naming a topic that does not exist', async () => {
    const missing = uniqueName('missing');
    await assert.rejects(
      kafkaLagReader(admin).lag(groupId, [topic, missing]),
      new RegExp(`topic ${missing} does not exist`),
    );
  });
});
