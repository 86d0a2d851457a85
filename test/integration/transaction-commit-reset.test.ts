/**
 * A connection reset while a transaction commits. Stock kafkajs sends EndTxn once: the reset left the
 * producer in COMMITTING for good, every later transaction() failed with "Cannot call beginTransaction in
 * state COMMITTING", and a worker had to be restarted (each checkpoint is a transaction). Patched, EndTxn is
 * retried as the Java client retries it, and the producer goes on. The reset is injected into the real
 * connection at the moment the EndTxn request is written.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import type { ISocketFactory } from 'kafkajs';
import { createKafka } from '../../connectors/kafka/client.js';
import { createTopic, deleteTopics, endpoints, readAll, testKafka, uniqueName } from '../support/kafka.js';

/** Kafka's API key of EndTxn, the request that commits or aborts a transaction. */
const END_TXN = 26;

/** Sockets that reset themselves instead of sending the next EndTxn request, `resets` times. */
function resettingEndTxn(resets: number) {
  const state = { left: resets, injected: 0 };
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((data: unknown, ...rest: unknown[]) => {
      // A request is [int32 size][int16 api key]...; kafkajs writes each one in a single call.
      if (state.left > 0 && Buffer.isBuffer(data) && data.length >= 6 && data.readInt16BE(4) === END_TXN) {
        state.left -= 1;
        state.injected += 1;
        socket.destroy(Object.assign(new Error('read ECONNRESET (injected)'), { code: 'ECONNRESET' }));
        return false;
      }
      return write(data, ...rest);
    }) as typeof socket.write;
    return socket;
  };
  return { socketFactory, state };
}

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

test(
  'a commit whose connection resets is retried, and the producer goes on',
  { timeout: 60_000 },
  async () => {
    const topic = uniqueName('txn-reset');
    created.push(topic);
    await createTopic(kafka, topic, 1);
    const faults = resettingEndTxn(1);
    const client = createKafka(endpoints.kafkaBrokers, uniqueName('txn-reset'), {
      socketFactory: faults.socketFactory,
    });
    const producer = client.producer({
      transactionalId: uniqueName('txn-reset'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const first = await producer.transaction();
      await first.send({ topic, messages: [{ value: 'first' }] });
      await first.commit();
      assert.equal(faults.state.injected, 1, 'the first commit met the reset');

      const second = await producer.transaction();
      await second.send({ topic, messages: [{ value: 'second' }] });
      await second.commit();
    } finally {
      await producer.disconnect();
    }
    const values = (await readAll(kafka, topic)).map((m) => m.value?.toString());
    assert.deepEqual(values, ['first', 'second'], 'both transactions committed, once each');
  },
);
