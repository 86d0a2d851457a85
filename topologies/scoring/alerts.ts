/** Produces alerts (JSON of the Avro Alert record) to `sluice.alerts` for the alert/webhook service. */
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { TopicSpec } from '../../connectors/kafka/topics.js';
import type { AlertRecord } from '../../schemas/index.js';

export const ALERTS_TOPIC = 'sluice.alerts';

/**
 * The alerts topic every producer of alerts and the webhook dispatcher agree on: SLUICE_ALERTS_TOPIC, else
 * sluice.alerts. One variable for all of them, so a renamed topic cannot leave the dispatcher on the old one.
 */
/** One partition, whoever creates the topic first: alerts reach on-call in the order they were raised. */
export const alertsTopicSpec = (topic: string): TopicSpec => ({ topic, numPartitions: 1 });

export const alertsTopicFromEnv = (env: NodeJS.ProcessEnv = process.env): string =>
  env.SLUICE_ALERTS_TOPIC || ALERTS_TOPIC;

export interface AlertSink {
  send(alert: Omit<AlertRecord, 'alertId' | 'ts'>): Promise<AlertRecord>;
}

/** Produces a complete alert (its id chosen by the caller: derive it from the cause to make resends dedupe). */
export async function publishAlert(
  producer: Pick<Producer, 'send'>,
  record: AlertRecord,
  topic = ALERTS_TOPIC,
): Promise<void> {
  await producer.send({
    topic,
    acks: -1,
    messages: [{ key: record.dedupKey, value: JSON.stringify(record) }],
  });
}

export function kafkaAlertSink(producer: Pick<Producer, 'send'>, topic = ALERTS_TOPIC): AlertSink {
  return {
    async send(alert) {
      const record: AlertRecord = { ...alert, alertId: randomUUID(), ts: Date.now() };
      await publishAlert(producer, record, topic);
      return record;
    },
  };
}
