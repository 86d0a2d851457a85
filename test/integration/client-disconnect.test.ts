/**
 * A kafkajs client's disconnect() must leave no connection behind. Stock kafkajs dials the broker again for
 * any request still retrying (or newly made) after disconnect(), and requests that find one connection
 * closed at the same moment each open a socket of their own, of which only the last is ever closed. Either
 * way a connection nothing closes: a worker that does not exit on SIGTERM. patches/kafkajs+2.2.4.patch
 * makes a disconnected client refuse to reconnect until its own connect(), and concurrent connects share
 * one socket. A socket whose peer went silent never finished closing either; it is now destroyed after the
 * connection timeout. Every socket is counted here.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import { after, test } from 'node:test';
import type { ISocketFactory } from 'kafkajs';
import { createKafka } from '../../connectors/kafka/client.js';
import { hostPortOfBroker } from '../../deploy/stack/probe.js';
import { createTopic, deleteTopics, endpoints, testKafka, uniqueName } from '../support/kafka.js';
import { until } from '../support/until.js';

/** The sockets a Kafka client opened, and which of them are still open. */
function countedSockets() {
  const open = new Set<net.Socket>();
  let opened = 0;
  const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tls.connect({ host, port, servername: host, ...(ssl as tls.ConnectionOptions) }, onConnect)
      : net.connect({ host, port }, onConnect);
    opened += 1;
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    return socket;
  };
  return {
    socketFactory,
    opened: () => opened,
    /** Fails the test unless every socket opened so far closes within 5 s (closing takes a round trip). */
    allClosed: (what = 'every connection to close') =>
      until(what, () => open.size === 0, { timeoutMs: 5000, everyMs: 50 }),
  };
}

const require = createRequire(import.meta.url);

/** kafkajs' own connection class: the connection pool's unit, which every request dials lazily. */
interface KafkaConnection {
  connect(): Promise<boolean>;
  disconnect(): Promise<boolean>;
}
const Connection = require('kafkajs/src/network/connection') as new (options: object) => KafkaConnection;
const { createLogger, LEVELS } = require('kafkajs/src/loggers') as {
  createLogger(o: { level: number; logCreator: () => () => void }): object;
  LEVELS: { NOTHING: number };
};

/** A bare connection to `to`, its sockets made by `socketFactory`, logging nothing. */
const connectionTo = (
  to: { host: string; port: number },
  socketFactory: ISocketFactory,
  connectionTimeout: number,
) =>
  new Connection({
    ...to,
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => undefined }),
    socketFactory,
    requestTimeout: 10_000,
    connectionTimeout,
  });
const broker = hostPortOfBroker(endpoints.kafkaBrokers[0] as string);

const kafka = testKafka();
const created: string[] = [];
after(() => deleteTopics(kafka, created));

test(
  'a send still retrying when its producer disconnects fails instead of dialling the broker again',
  { timeout: 90_000 },
  async () => {
    const sockets = countedSockets();
    const client = createKafka(endpoints.kafkaBrokers, uniqueName('disconnect-test'), {
      socketFactory: sockets.socketFactory,
      retry: { retries: 3, initialRetryTime: 1000, maxRetryTime: 2000 },
    });
    const producer = client.producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    // A topic that does not exist yet: the send fails with a retriable error and waits to retry.
    const topic = uniqueName('not-yet-created');
    const firstLookup = new Promise<void>((resolve) => {
      producer.on(producer.events.REQUEST, ({ payload }) => {
        if (payload.apiName === 'Metadata') resolve();
      });
    });
    const sending = producer.send({ topic, messages: [{ value: 'x' }] });
    sending.catch(() => undefined);
    await firstLookup;
    await producer.disconnect();
    const openedBeforeDisconnect = sockets.opened();

    await assert.rejects(sending, /Not reconnecting: this client was disconnected/);
    assert.equal(sockets.opened(), openedBeforeDisconnect, 'no connection is opened after disconnect()');
    await sockets.allClosed();

    // connect() opens the client again: the same producer sends, and disconnects cleanly.
    created.push(topic);
    await createTopic(kafka, topic, 1);
    await producer.connect();
    const [sent] = await producer.send({ topic, messages: [{ value: 'after reconnect' }] });
    assert.equal(sent?.errorCode, 0);
    await producer.disconnect();
    await sockets.allClosed('every connection to close after the second disconnect()');
  },
);

test('an admin used after disconnect() fails, naming the fix, and opens no connection', async () => {
  const sockets = countedSockets();
  const admin = createKafka(endpoints.kafkaBrokers, uniqueName('disconnect-test'), {
    socketFactory: sockets.socketFactory,
  }).admin();
  await admin.connect();
  await admin.listTopics();
  await admin.disconnect();
  const openedBeforeDisconnect = sockets.opened();

  await assert.rejects(admin.listTopics(), /call connect\(\) to use it again/);
  assert.equal(sockets.opened(), openedBeforeDisconnect);
  await sockets.allClosed();

  await admin.connect();
  assert.ok(Array.isArray(await admin.listTopics()));
  await admin.disconnect();
  await sockets.allClosed();
});

test('requests that find a connection closed at the same moment open one socket, not one each', async () => {
  const sockets = countedSockets();
  const connection = connectionTo(broker, sockets.socketFactory, 5_000);
  await Promise.all([connection.connect(), connection.connect(), connection.connect()]);
  assert.equal(sockets.opened(), 1, 'three requests at once dialled one socket');
  await connection.disconnect();
  await sockets.allClosed('disconnect() to close every socket the connection opened');

  // Closed, then three requests at once again (what follows a dropped connection).
  await Promise.all([connection.connect(), connection.connect(), connection.connect()]);
  assert.equal(sockets.opened(), 2);
  await connection.disconnect();
  await sockets.allClosed();
});

/**
 * A relay to the broker that can go silent as a vanished host does: it stops forwarding, keeps the
 * connection and never answers, not even the FIN of a closing client (the server socket is half-open and
 * nothing reads it, so it neither ends nor resets).
 */
async function silenceableRelay(to: { host: string; port: number }) {
  /** Each accepted client socket and its connection to the broker. */
  const upstreams = new Map<net.Socket, net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect(to);
    upstreams.set(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.once('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    silence() {
      for (const [client, upstream] of upstreams) {
        client.unpipe();
        upstream.unpipe();
        upstream.destroy();
        client.pause();
      }
    },
    async close() {
      for (const client of upstreams.keys()) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('disconnect() closes a connection whose peer went silent, once the connection timeout has passed', async () => {
  const sockets = countedSockets();
  const relay = await silenceableRelay(broker);
  try {
    const connection = connectionTo({ host: '127.0.0.1', port: relay.port }, sockets.socketFactory, 1_000);
    await connection.connect();
    assert.equal(sockets.opened(), 1);
    relay.silence();
    // end() sends a FIN that nobody answers: stock kafkajs left the socket open for as long as the process
    // held it (a half-closed socket per vanished connection), and only unref'd it.
    await connection.disconnect();
    await sockets.allClosed('the silenced socket to be closed after the 1 s connection timeout');
  } finally {
    await relay.close();
  }
});
