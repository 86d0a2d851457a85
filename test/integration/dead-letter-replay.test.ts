/**
 * Replaying dead letters once their cause is fixed (`sluice dlq replay`): the original records go back
 * unchanged, to the partition they came from or to another topic, filtered by reason, exactly once per
 * replay group, even when the replay is killed half-way and run again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { Message } from 'kafkajs';
import { deadLetterMessage, deadLetterTopic } from '../../connectors/kafka/dead-letter.js';
import { REPLAY_OF_HEADER, REPLAY_TIMESTAMP_HEADER } from '../../connectors/kafka/dead-letter-record.js';
import { replayDeadLetters } from '../../connectors/kafka/dead-letter-replay.js';
import {
  createTopic,
  deleteTopics,
  headerText,
  produce,
  readAll,
  testKafka,
  topologyTopics,
  uniqueName,
} from '../support/kafka.js';
import { jsonDecoder } from '../support/json-decoder.js';
import { decodeKeyedTopology, runToCommittedEnd } from '../support/run-to-end.js';
import { runSluice, SLUICE_BIN, tempAuditLog } from '../support/sluice-cli.js';

const kafka = testKafka();
const names: string[] = [];

interface Event {
  id: number;
  card: string;
  ts: number | string;
}

test(
  'letters of one reason go to a repair topic unchanged, once; all of them go back to their own partitions',
  { timeout: 180_000 },
  async () => {
    const name = uniqueName('dlq-replay');
    names.push(name);
    await createTopic(kafka, `${name}.in`, 2);
    await createTopic(kafka, `${name}.repaired`, 1);
    const now = Date.now();
    const messages: Message[] = [];
    for (let i = 0; i < 50; i += 1) {
      const partition = Math.floor(i / 10) % 2; // letters on both partitions: 6 on 0, 4 on 1
      const e: Event = { id: i, card: `card-${i % 7}`, ts: now + i };
      if (i % 10 === 3) {
        messages.push({ partition, key: e.card, value: `{"id": ${i}, broken`, headers: { trace: `t${i}` } });
      } else if (i % 10 === 7) {
        messages.push({
          partition,
          key: e.card,
          value: JSON.stringify({ ...e, ts: 'soon' }),
          headers: { trace: `t${i}` },
        });
      } else {
        messages.push({ partition, key: e.card, value: JSON.stringify(e) });
      }
    }
    await produce(kafka, `${name}.in`, messages, 50);
    const t = decodeKeyedTopology(
      name,
      jsonDecoder<Event>(),
      (e) => e.ts as number,
      (e) => e.card,
    );
    assert.equal(await runToCommittedEnd(kafka, t, 'r1'), undefined, 'no worker crash');
    const letters = await readAll(kafka, deadLetterTopic(name));
    assert.equal(letters.length, 10);

    const list = runSluice(['dlq', 'list', name]);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /JSON_DECODE_ERROR\s+5\n/);
    assert.match(list.stdout, /EVENT_TIME_INVALID\s+5\n/);
    assert.match(list.stdout, new RegExp(`${name}\\.in/0\\s+6\\n`));
    assert.match(list.stdout, new RegExp(`${name}\\.in/1\\s+4\\n`));

    const dry = await replayDeadLetters(kafka, { topology: name, dryRun: true });
    assert.equal(dry.replayed, 10);
    assert.deepEqual(dry.replayedByCode, { JSON_DECODE_ERROR: 5, EVENT_TIME_INVALID: 5 });

    const repair = { topology: name, codes: ['JSON_DECODE_ERROR'], toTopic: `${name}.repaired` };
    const first = await replayDeadLetters(kafka, repair);
    assert.deepEqual([first.replayed, first.passedOver], [5, 5]);
    const repaired = await readAll(kafka, `${name}.repaired`);
    const broken = messages.filter((m) => String(m.value).includes('broken'));
    assert.deepEqual(
      repaired.map((m) => [String(m.key), String(m.value), headerText(m.headers, 'trace')]).sort(),
      broken.map((m) => [String(m.key), String(m.value), (m.headers as Record<string, string>).trace]).sort(),
      'the original keys, values and headers',
    );
    for (const m of repaired) {
      assert.match(headerText(m.headers, REPLAY_OF_HEADER) ?? '', /\.dlq\/\d+$/);
      // A new Kafka timestamp (an old one could fall to time-based retention), the original in a header.
      assert.ok(Number(m.timestamp) >= now, 'replayed with a new timestamp');
      assert.ok(Number(headerText(m.headers, REPLAY_TIMESTAMP_HEADER)) < Number(m.timestamp));
    }

    const again = await replayDeadLetters(kafka, repair);
    assert.deepEqual([again.replayed, again.passedOver], [0, 0], 'the group remembers what it replayed');
    assert.equal((await readAll(kafka, `${name}.repaired`)).length, 5);

    // Mistakes fail before anything is read: a misspelt topology, a target topic that does not exist.
    await assert.rejects(
      replayDeadLetters(kafka, { topology: `${name}-typo` }),
      /there is no topic .*-typo\.dlq/,
    );
    await assert.rejects(
      replayDeadLetters(kafka, { topology: name, toTopic: `${name}.nowhere` }),
      /there is no topic .*\.nowhere to replay into; create it first/,
    );

    const home = await replayDeadLetters(kafka, { topology: name, groupId: `${name}.all` });
    assert.equal(home.replayed, 10);
    const source = await readAll(kafka, `${name}.in`);
    const replays = source.filter((m) => headerText(m.headers, REPLAY_OF_HEADER) !== undefined);
    assert.equal(replays.length, 10);
    for (const m of replays) {
      const original = messages.find((o) => String(o.value) === String(m.value));
      assert.equal(m.partition, original?.partition, `${String(m.value)} went back to its partition`);
    }
  },
);

test(
  'a replay killed half-way and run again writes every letter exactly once',
  { timeout: 240_000 },
  async () => {
    const name = uniqueName('dlq-kill');
    names.push(name);
    const LETTERS = 60_000;
    await createTopic(kafka, deadLetterTopic(name), 3);
    await createTopic(kafka, `${name}.in`, 3);
    await createTopic(kafka, `${name}.repaired`, 3);
    const letters: Message[] = Array.from({ length: LETTERS }, (_, i) =>
      deadLetterMessage(
        name,
        {
          key: Buffer.from(`card-${i % 97}`),
          value: Buffer.from(`{"id":${i}}`),
          headers: {},
          source: {
            topic: `${name}.in`,
            partition: i % 3,
            offset: String(i),
            timestamp: 1_700_000_000_000 + i,
          },
        },
        { code: 'VALIDATION_FAILED', message: 'amount < 0' },
      ),
    );
    await produce(kafka, deadLetterTopic(name), letters, 5000);

    const audit = tempAuditLog('sluice-dlq');
    const replay = () =>
      spawn(process.execPath, [SLUICE_BIN, 'dlq', 'replay', name, '--to', `${name}.repaired`], {
        env: { ...process.env, SLUICE_AUDIT_LOG: audit, SLUICE_ACTOR: 'on-call' },
        stdio: 'pipe',
      });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const written = async () =>
        (await admin.fetchTopicOffsets(`${name}.repaired`)).reduce((n, p) => n + Number(p.high), 0);
      const doomed = replay();
      const exited = new Promise((r) => doomed.once('exit', r));
      const deadline = Date.now() + 60_000;
      while ((await written()) < LETTERS / 4 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      doomed.kill('SIGKILL');
      await exited;
      const [group] = await admin.fetchOffsets({
        groupId: `${name}.dlq-replay`,
        topics: [deadLetterTopic(name)],
      });
      const committed = (group?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
      assert.ok(
        committed > 0 && committed < LETTERS,
        `killed half-way: ${committed} of ${LETTERS} letters committed`,
      );
      console.log(`killed with ${committed} of ${LETTERS} letters committed`);

      const rerun = replay();
      let out = '';
      let err = '';
      rerun.stdout.on('data', (d: Buffer) => (out += d.toString()));
      rerun.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise((r) => rerun.once('exit', r));
      assert.equal(code, 0, `${out}\n${err.slice(-3000)}`);
      // The killed replay's last commit may still complete at the coordinator after the read above, so
      // the rerun replays at most the rest; the exact count is checked on the topic itself below.
      const rest = Number(/replayed: (\d+) \(VALIDATION_FAILED \d+\)/.exec(out)?.[1]);
      assert.ok(rest > 0 && rest <= LETTERS - committed, `the rerun replayed ${rest}: ${out}`);
    } finally {
      await admin.disconnect();
    }
    const repaired = await readAll(kafka, `${name}.repaired`);
    const ids = repaired.map((m) => (JSON.parse(String(m.value)) as { id: number }).id);
    assert.equal(new Set(ids).size, ids.length, 'nothing written twice');
    assert.equal(ids.length, LETTERS, 'nothing missing');
    const auditLines = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; actor: string });
    assert.deepEqual(
      auditLines.map((l) => [l.action, l.actor]),
      [['dlq.replay', 'on-call']],
      'the completed replay is audited (the killed one never finished)',
    );
  },
);

after(async () => {
  await deleteTopics(
    kafka,
    names.flatMap((n) => [`${n}.in`, `${n}.out`, `${n}.repaired`, ...topologyTopics(n)]),
  );
});
