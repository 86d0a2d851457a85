/**
 * State and position are restored together from the changelog. Without KIP-447 fencing in kafkajs, the
 * group's committed offset can disagree with the restored state (an old owner's commit landing between the
 * new owner's offset fetch and its restore). Here the disagreement is made on purpose by moving the group's
 * offset while no worker runs, backwards (state ahead: resuming there would count events twice or report
 * them late) and forwards (state behind: resuming there would lose events). Either way the final windows
 * must equal the reference exactly.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Message } from 'kafkajs';
import { TopologyWorker } from '../../topologies/runtime/worker.js';
import {
  createTopic,
  deleteTopics,
  endpoints,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
  waitForCommittedEnd,
} from '../support/kafka.js';
import {
  assertWindowsEqualReference,
  countSumTopology,
  WINDOW_MS,
  type KeyedEvent,
} from '../support/window-reference.js';

const kafka = testKafka();
const created: string[] = [];
const PER_PHASE = 3000;

async function runUntilCommitted(name: string, instance: string): Promise<void> {
  const worker = new TopologyWorker(countSumTopology(name, { outOfOrderness: '1s' }), {
    instanceId: instance,
    kafka,
    endpoints,
    barrierEveryRecords: 500,
    barrierIntervalMs: 200,
  });
  await worker.start();
  try {
    await waitForCommittedEnd(kafka, name, `${name}.in`, 120_000);
  } finally {
    await worker.stop();
  }
}

async function moveGroupOffset(name: string, offset: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId: name, topic: `${name}.in`, partitions: [{ partition: 0, offset }] });
  } finally {
    await admin.disconnect();
  }
}

const toMessage = (e: KeyedEvent): Message => ({ partition: 0, key: e.key, value: JSON.stringify(e) });

async function scenario(label: string, groupOffsetAfterPhase1: (phase1End: number) => string) {
  const name = uniqueName(`position-${label}`);
  created.push(`${name}.in`, `${name}.out`, ...topologyTopics(name));
  await createTopic(kafka, `${name}.in`, 1);
  const t0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 3_600_000;
  const events: KeyedEvent[] = Array.from({ length: 2 * PER_PHASE }, (_, id) => ({
    id,
    key: `card-${id % 17}`,
    ts: t0 + id * 50,
    amount: 1 + (id % 13),
  }));
  await produce(kafka, `${name}.in`, events.slice(0, PER_PHASE).map(toMessage));
  await runUntilCommitted(name, 'a');

  await moveGroupOffset(name, groupOffsetAfterPhase1(PER_PHASE));
  const flush: KeyedEvent = { id: -1, key: 'flush', ts: t0 + 4 * PER_PHASE * 50, amount: 0 };
  await produce(kafka, `${name}.in`, [...events.slice(PER_PHASE).map(toMessage), toMessage(flush)]);
  await runUntilCommitted(name, 'b');

  await assertWindowsEqualReference(kafka, `${name}.out`, events);
  assert.equal((await readAll(kafka, `${name}.late`)).length, 0, 'no event was reported late');
}

test(
  'group offset behind the restored state: resumes at the state, nothing counted twice',
  { timeout: 300_000 },
  () => scenario('behind', () => '0'),
);

test(
  'group offset ahead of the restored state: resumes at the state, nothing lost',
  { timeout: 300_000 },
  async () => {
    // Phase 2's first records are skipped by the group offset; the state's position must bring them back.
    await scenario('ahead', (end) => String(end + 500));
  },
);

after(() => deleteTopics(kafka, created));
