/**
 * The control page's alert feed against the real broker: it creates a missing alerts topic, reads the
 * history on start and new alerts as they come, newest first, skips a malformed record, and commits
 * nothing (it only looks; the webhook dispatcher owns delivery).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { AlertRecord } from '../../schemas/index.js';
import { kafkaAlertFeed, type KafkaAlertFeed } from '../../services/control/kafka-alert-feed.js';
import { deleteTopics, produce, testKafka, uniqueName, withAdmin } from '../support/kafka.js';
import { until } from '../support/until.js';

const kafka = testKafka();
const topic = uniqueName('control-alerts');
let feed: KafkaAlertFeed | undefined;

const alert = (id: string, ts: number): AlertRecord => ({
  alertId: id,
  dedupKey: `k:${id}`,
  kind: 'DRIFT',
  severity: 'WARNING',
  title: `alert ${id}`,
  message: 'm',
  model: 'fraud',
  modelVersion: '3',
  labels: {},
  ts,
});

test(
  'history and new alerts, newest first; malformed ones skipped; nothing committed',
  { timeout: 90_000 },
  async () => {
    const t0 = Date.now();
    feed = kafkaAlertFeed(kafka, topic);
    await feed.start(); // the topic does not exist yet: the feed creates it
    await produce(kafka, topic, [
      { key: 'a', value: JSON.stringify(alert('a', t0)) },
      { key: 'bad', value: '{"alertId": ' },
      { key: 'b', value: JSON.stringify(alert('b', t0 + 1000)) },
    ]);
    await until('two alerts', async () => (await feed!.recent(10)).length === 2);
    assert.deepEqual(
      (await feed.recent(10)).map((a) => a.alertId),
      ['b', 'a'],
    );
    await produce(kafka, topic, [{ key: 'c', value: JSON.stringify(alert('c', t0 + 2000)) }]);
    await until('the new alert', async () => (await feed!.recent(1))[0]?.alertId === 'c');
    assert.equal((await feed.recent(10)).length, 3);

    // A second feed (another control replica, or a restart) reads the whole history again.
    const other = kafkaAlertFeed(kafka, topic);
    await other.start();
    try {
      await until('the history in a second feed', async () => (await other.recent(10)).length === 3);
    } finally {
      await other.stop();
    }
    const groups = await withAdmin(kafka, (admin) => admin.listGroups());
    for (const g of groups.groups.filter((g) => g.groupId.startsWith('sluice-control-alerts-'))) {
      const [offsets] = await withAdmin(kafka, (admin) =>
        admin.fetchOffsets({ groupId: g.groupId, topics: [topic] }),
      );
      assert.ok(
        (offsets?.partitions ?? []).every((p) => p.offset === '-1'),
        `${g.groupId} committed nothing`,
      );
    }
  },
);

after(async () => {
  await feed?.stop();
  await deleteTopics(kafka, [topic]);
});
