/**
 * The alerts topic as the control page shows it: the last `keep` alerts, newest first. A consumer under a
 * group of its own reads the topic from the beginning and commits nothing (the webhook dispatcher owns
 * delivery; this only looks), so every control replica sees every alert. Alerts are few, so reading the
 * history on start is cheap; a malformed one is left to the dispatcher's dead letters.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { ensureTopics } from '../../connectors/kafka/topics.js';
import type { AlertRecord } from '../../schemas/index.js';
import { alertsTopicSpec } from '../../topologies/scoring/alerts.js';
import { parseAlert } from '../alerts/alert-record.js';
import type { AlertFeed } from './sources.js';

export interface KafkaAlertFeed extends AlertFeed {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function kafkaAlertFeed(kafka: Kafka, topic: string, keep = 200): KafkaAlertFeed {
  const kept: AlertRecord[] = [];
  let consumer: Consumer | undefined;
  return {
    async start() {
      // Created as every producer of alerts creates it, so the page works before the first alert.
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [alertsTopicSpec(topic)]);
      } finally {
        await admin.disconnect();
      }
      consumer = kafka.consumer({ groupId: `sluice-control-alerts-${randomUUID()}` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ message }) => {
          let alert: AlertRecord;
          try {
            alert = parseAlert(message.value);
          } catch {
            return;
          }
          kept.push(alert);
          if (kept.length > keep) kept.splice(0, kept.length - keep);
        },
      });
    },
    async stop() {
      await consumer?.disconnect();
    },
    async recent(limit) {
      // Newest by the alert's own time: several partitions (if an operator added some) interleave.
      return [...kept].sort((a, b) => b.ts - a.ts).slice(0, limit);
    },
  };
}
