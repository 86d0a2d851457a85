/**
 * The feature-view registry on its compacted Kafka topic: registering writes each version once, reads
 * return every version, and a metadata change is an update of the same version, not a new one.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { FeatureViewRegistry, registryKey } from '../../topologies/features/view-registry-store.js';
import { describeView } from '../../topologies/features/feature-view.js';
import { cardViews } from '../../topologies/features/views/index.js';
import { deleteTopics, testKafka, uniqueName } from '../support/kafka.js';

const kafka = testKafka();
const topic = uniqueName('feature-views');

test(
  'register, read back, register again unchanged, then a metadata update',
  { timeout: 60_000 },
  async () => {
    const registry = new FeatureViewRegistry(kafka, topic);
    assert.equal((await registry.all()).size, 0, 'a new registry is empty');
    const keys = cardViews.map((v) => registryKey(describeView(v)));

    const first = await registry.register([...cardViews], 1_000);
    assert.deepEqual([...first.registered].sort(), [...keys].sort());
    const all = await registry.all();
    assert.deepEqual([...all.keys()].sort(), [...keys].sort());
    assert.ok([...all.values()].every((v) => v.registeredAt === 1_000 && v.updatedAt === 1_000));

    const again = await registry.register([...cardViews], 2_000);
    assert.deepEqual([...again.unchanged].sort(), [...keys].sort());
    assert.deepEqual(again.registered, []);

    const [view] = cardViews;
    const retagged = { ...view, owner: 'fraud-platform' };
    const update = await registry.register([retagged], 3_000);
    assert.deepEqual(update.updated, [keys[0]]);
    const versions = await registry.versions(view.name);
    assert.equal(versions.length, 1, 'an owner change keeps the version');
    assert.equal(versions[0]?.registeredAt, 1_000);
    assert.equal(versions[0]?.updatedAt, 3_000);
    assert.equal(versions[0]?.descriptor.owner, 'fraud-platform');
  },
);

after(() => deleteTopics(kafka, [topic]));
