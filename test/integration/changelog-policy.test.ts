/**
 * A changelog created with time-based deletion (by hand, or by broker auto-creation) would lose state
 * older than its retention, and a restore would silently start from less than was committed. Workers
 * refuse it, naming the fix; `sluice topics align` makes it compact and keeps the topic's other settings.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import kafkajs from 'kafkajs';
import { changelogTopic } from '../../connectors/kafka/co-partitioned.js';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  testKafka,
  topologyTopics,
  uniqueName,
  withAdmin,
} from '../support/kafka.js';
import { countSumTopology } from '../support/window-reference.js';
import { runSluice, tempAuditLog } from '../support/sluice-cli.js';

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

async function topicSettings(topic: string): Promise<Map<string, string>> {
  const { resources } = await withAdmin(kafka, (admin) =>
    admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }],
    }),
  );
  return new Map((resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
}

test(
  'a changelog that is not compacted is refused until `sluice topics align` compacts it',
  { timeout: 120_000 },
  async () => {
    const name = uniqueName('policy');
    const changelog = changelogTopic(name);
    created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
    await createTopic(kafka, `${name}.in`, 2);
    await withAdmin(kafka, (admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: changelog,
            numPartitions: 2,
            configEntries: [
              { name: 'cleanup.policy', value: 'delete' },
              { name: 'retention.ms', value: '86400000' },
            ],
          },
        ],
      }),
    );
    const worker = () => new TopologyWorker(countSumTopology(name), { instanceId: 'a', kafka, endpoints });

    await assert.rejects(worker().start(), (err: Error) => {
      assert.match(err.message, new RegExp(`${changelog} has cleanup.policy=delete`));
      assert.match(err.message, new RegExp(`sluice topics align ${name}`));
      return true;
    });

    const align = runSluice(['topics', 'align', name, '--source', `${name}.in`], {
      env: { SLUICE_AUDIT_LOG: tempAuditLog('sluice-policy') },
    });
    assert.equal(align.status, 0, align.stderr);
    assert.match(align.stdout, new RegExp(`${changelog}: cleanup.policy delete -> compact`));
    const settings = await topicSettings(changelog);
    assert.equal(settings.get('cleanup.policy'), 'compact');
    assert.equal(settings.get('retention.ms'), '86400000', "align kept the topic's own settings");

    const running = worker();
    await running.start();
    await running.stop();
  },
);
