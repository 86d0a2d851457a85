/**
 * `sluice status` against the real broker: a topology's group with no worker shows its committed lag per
 * partition (and the partitions it never committed), a running member turns the group Stable, and a name
 * that is neither shipped nor given a source is refused with the fix.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Consumer } from 'kafkajs';
import { createTopic, deleteTopics, produce, testKafka, uniqueName, withAdmin } from '../support/kafka.js';
import { runSluice } from '../support/sluice-cli.js';

const kafka = testKafka();
const name = uniqueName('cli-status');
const source = `${name}.in`;
let consumer: Consumer | undefined;

interface Status {
  topology: string;
  state: string;
  neverRan: boolean;
  members: { clientId: string }[];
  lag: { total: number; partitions: { partition: number; committed: string | null; lag: number }[] } | null;
}

const sluice = (...args: string[]) => runSluice(args);

function status(): Status {
  const run = sluice('status', name, '--source', source, '--json');
  assert.equal(run.status, 0, run.stderr);
  const [only] = JSON.parse(run.stdout) as Status[];
  return only!;
}

test(
  'status shows the group, its workers and its lag per source partition',
  { timeout: 120_000 },
  async () => {
    await createTopic(kafka, source, 3);
    await produce(
      kafka,
      source,
      Array.from({ length: 30 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: String(i) })),
    );

    // Before any worker: Kafka knows no such group ("Dead"), and the table says what that means here.
    const before = status();
    assert.equal(before.state, 'Dead');
    assert.equal(before.neverRan, true);
    const table = sluice('status', name, '--source', source);
    assert.match(table.stdout, new RegExp(`${name}\\s+never ran\\s+0\\s+30`));

    // The group committed 4 of partition 0's 10 records and all of partition 1's; never partition 2.
    await withAdmin(kafka, (admin) =>
      admin.setOffsets({
        groupId: name,
        topic: source,
        partitions: [
          { partition: 0, offset: '4' },
          { partition: 1, offset: '10' },
        ],
      }),
    );

    const idle = status();
    assert.equal(idle.topology, name);
    assert.equal(idle.state, 'Empty');
    assert.equal(idle.neverRan, false);
    assert.deepEqual(idle.members, []);
    assert.deepEqual(
      idle.lag?.partitions.map((p) => [p.partition, p.committed, p.lag]),
      [
        [0, '4', 6],
        [1, '10', 0],
        [2, null, 10],
      ],
    );
    assert.equal(idle.lag?.total, 16);

    consumer = kafka.consumer({ groupId: name });
    await consumer.connect();
    await consumer.subscribe({ topic: source });
    let joined!: () => void;
    const hasJoined = new Promise<void>((r) => (joined = r));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    // Nothing committed by this member: only the group's state and members are checked from here on.
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await hasJoined;
    const running = status();
    assert.equal(running.state, 'Stable');
    assert.equal(running.members.length, 1);

    // With no names: every shipped topology, then the two services that consume Kafka.
    const all = sluice('status', '--json');
    assert.equal(all.status, 0, all.stderr);
    const listed = (JSON.parse(all.stdout) as Status[]).map((s) => s.topology);
    assert.deepEqual(listed.slice(-2), ['alert webhooks', 'trainer']);
    assert.ok(listed.includes('card-features') && listed.includes('scoring'));

    const refused = sluice('status', 'no-such-topology');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /not a shipped topology .*--source <topic>/);
  },
);

after(async () => {
  await consumer?.disconnect();
  await deleteTopics(kafka, [source]);
  await withAdmin(kafka, (admin) => admin.deleteGroups([name])).catch(() => undefined);
});
