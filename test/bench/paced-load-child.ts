/**
 * Child process of the scoring bench: the "outside world" around the scoring topology, kept out of the
 * topology's process so it does not share its event loop.
 * - A producer offers transactions at a fixed rate: every 5 ms it sends whatever is due by then
 *   (rate x elapsed), each event stamped with `ts` = Date.now() at the send call (its produce time).
 * - An observer consumes the predictions topic read_committed, as a downstream service would, and records
 *   for each served prediction the time it became visible: Date.now() on receipt minus the event's `ts`.
 * Prints one JSON line (PacedLoadResult) on stdout.
 *
 *   node --import tsx test/bench/paced-load-child.ts <sourceTopic> <predictionsTopic> <rate> <seconds> <cards>
 */
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import { createKafka } from '../../connectors/kafka/client.js';
import { uniqueName } from '../support/kafka.js';
import { percentile } from './latency-stats.js';

export interface PacedLoadResult {
  readonly sent: number;
  /** Wall clock (epoch ms) of the first and last send calls. */
  readonly firstSendAt: number;
  readonly lastSendAt: number;
  /** Served predictions seen by the read_committed observer (after the warm-up second). */
  readonly visible: number;
  readonly visibleP50: number;
  readonly visibleP99: number;
}

const [sourceTopic, predictionsTopic, rateText, secondsText, cardsText] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const cards = Number(cardsText);
if (!sourceTopic || !predictionsTopic || !(rate > 0) || !(seconds > 0) || !(cards > 0)) {
  console.error('usage: paced-load-child.ts <sourceTopic> <predictionsTopic> <rate> <seconds> <cards>');
  process.exit(2);
}
const WARM_UP_MS = 1000;

const kafka = createKafka(loadEndpoints().kafkaBrokers, `sluice-bench-load-${process.pid}`);
const consumer = kafka.consumer({
  groupId: uniqueName('bench-observer'),
  readUncommitted: false,
  // Short fetch waits: the observer's own polling delay is part of what it measures.
  maxWaitTimeInMs: 10,
});
const producer = kafka.producer({ allowAutoTopicCreation: false });
await Promise.all([consumer.connect(), producer.connect()]);
await consumer.subscribe({ topic: predictionsTopic, fromBeginning: true });
const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));

const latencies: number[] = [];
let measureFrom = Number.POSITIVE_INFINITY;
let served = 0;
void consumer.run({
  autoCommit: false,
  eachBatch: async ({ batch }) => {
    const now = Date.now();
    for (const m of batch.messages) {
      const p = JSON.parse(m.value?.toString('utf8') ?? '{}') as { shadow?: boolean; eventTime?: number };
      if (p.shadow || typeof p.eventTime !== 'number') continue;
      served += 1;
      if (p.eventTime >= measureFrom) latencies.push(now - p.eventTime);
    }
  },
});
await joined;

let sent = 0;
let inFlight = 0;
let sendError: Error | undefined;
const firstSendAt = Date.now();
measureFrom = firstSendAt + WARM_UP_MS;
let lastSendAt = firstSendAt;
const total = Math.round(rate * seconds);
await new Promise<void>((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor(((Date.now() - firstSendAt) * rate) / 1000));
    if (due > sent) {
      const ts = Date.now();
      const messages = [];
      for (let i = sent; i < due; i++) {
        const cardId = `card-${(i * 7919) % cards}`;
        const event = {
          txnId: `t-${i}`,
          cardId,
          amount: 10 + ((i * 37) % 500),
          country: i % 9 === 0 ? 'FR' : 'DE',
          ts,
        };
        messages.push({ key: cardId, value: JSON.stringify(event) });
      }
      sent = due;
      lastSendAt = ts;
      inFlight += 1;
      producer
        .send({ topic: sourceTopic, acks: -1, messages })
        .catch((err: Error) => (sendError ??= err))
        .finally(() => (inFlight -= 1));
    }
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  };
  const timer = setInterval(tick, 5);
});
while (inFlight > 0) await new Promise((r) => setTimeout(r, 5));
if (sendError) {
  console.error(`producing the load failed: ${sendError.message}`);
  process.exit(1);
}

// Wait for every served prediction to become visible, or give up 20 s after the last send.
const deadline = Date.now() + 20_000;
while (served < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
await Promise.all([consumer.disconnect(), producer.disconnect()]);
const result: PacedLoadResult = {
  sent,
  firstSendAt,
  lastSendAt,
  visible: latencies.length,
  visibleP50: latencies.length ? percentile(latencies, 50) : Number.NaN,
  visibleP99: latencies.length ? percentile(latencies, 99) : Number.NaN,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
