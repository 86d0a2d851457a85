/**
 * Delivers the alerts topic to the configured webhooks, signed. A consumer group (`sluice-alert-webhooks`):
 * scale out with more instances, one partition each. At-least-once: an alert's offset is committed only
 * after every receiver accepted it or it was dead-lettered; receivers deduplicate on the alert id header.
 * A malformed alert, or one a receiver refuses or stays unreachable for through every retry, goes to
 * `<alerts topic>.dlq` with the reason, so one bad alert or dead receiver never blocks the others for long.
 */
import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import { deadLetterTopic, writeDeadLetter } from '../../connectors/kafka/dead-letter.js';
import { watchConsumerHealth, type ConsumerHealth } from '../../connectors/kafka/consumer-health.js';
import { ensureTopics } from '../../connectors/kafka/topics.js';
import { sharedMetric } from '../../connectors/metrics.js';
import type { AlertRecord } from '../../schemas/index.js';
import { alertsTopicFromEnv } from '../../topologies/scoring/alerts.js';
import { AlertRecordError, parseAlert } from './alert-record.js';
import { SEVERITIES, type WebhookConfig } from './webhook-config.js';
import { deliverAlert, WebhookDeliveryError, type DeliveryOptions } from './webhook-delivery.js';

const deliveries = sharedMetric(
  'sluice_alert_webhooks_total',
  () =>
    new Counter({
      name: 'sluice_alert_webhooks_total',
      help: 'Alerts handled by the webhook dispatcher, by outcome (delivered, filtered, dead-lettered)',
      labelNames: ['outcome'],
    }),
);

export interface AlertDispatcherOptions {
  readonly kafka: Kafka;
  readonly config: WebhookConfig;
  readonly logger: Logger;
  readonly topic?: string;
  readonly groupId?: string;
  readonly delivery?: Omit<DeliveryOptions, 'secrets' | 'onRetry'>;
}

export const ALERT_WEBHOOKS_GROUP = 'sluice-alert-webhooks';

export class AlertDispatcher {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private readonly topic: string;
  private health: ConsumerHealth | undefined;
  private stopped = false;

  constructor(private readonly o: AlertDispatcherOptions) {
    this.topic = o.topic ?? alertsTopicFromEnv();
  }

  async start(): Promise<void> {
    const { kafka } = this.o;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [{ topic: deadLetterTopic(this.topic), numPartitions: 1 }]);
    } finally {
      await admin.disconnect();
    }
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.consumer = kafka.consumer({ groupId: this.o.groupId ?? ALERT_WEBHOOKS_GROUP });
    this.health = watchConsumerHealth(this.consumer);
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      // Offsets are resolved only when eachMessage returns, i.e. after delivery or dead-lettering.
      eachMessage: ({ partition, message, heartbeat }) => this.handle(partition, message, heartbeat),
    });
    this.o.logger.info(
      { topic: this.topic, receivers: this.o.config.urls.map((u) => u.origin) },
      'alert webhooks dispatching',
    );
  }

  /** Liveness: started and neither stopped nor crashed for good. */
  get isAlive(): boolean {
    return this.health !== undefined && !this.health.crashedForGood && !this.stopped;
  }

  /** Readiness: alive and a member of its consumer group. */
  get isMember(): boolean {
    return this.isAlive && this.health?.joined === true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
  }

  private async handle(partition: number, message: KafkaMessage, heartbeat: () => Promise<void>) {
    let alert: AlertRecord;
    try {
      alert = parseAlert(message.value);
    } catch (err) {
      if (!(err instanceof AlertRecordError)) throw err;
      return this.deadLetter(partition, message, 'BAD_ALERT', err.message);
    }
    if (SEVERITIES.indexOf(alert.severity) < SEVERITIES.indexOf(this.o.config.minSeverity)) {
      deliveries.inc({ outcome: 'filtered' });
      return;
    }
    for (const url of this.o.config.urls) {
      try {
        await deliverAlert(alert, url, {
          ...this.o.delivery,
          secrets: this.o.config.secrets,
          onRetry: (info) => {
            this.o.logger.warn({ alertId: alert.alertId, ...info }, 'webhook delivery failed; retrying');
            void heartbeat().catch(() => undefined);
          },
        });
        deliveries.inc({ outcome: 'delivered' });
      } catch (err) {
        if (!(err instanceof WebhookDeliveryError)) throw err;
        await this.deadLetter(partition, message, err.code, `${url.href}: ${err.message}`);
      }
    }
  }

  private async deadLetter(partition: number, message: KafkaMessage, code: string, text: string) {
    this.o.logger.error({ partition, offset: message.offset, code, reason: text }, 'alert dead-lettered');
    deliveries.inc({ outcome: 'dead-lettered' });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    await writeDeadLetter(
      this.producer!,
      deadLetterTopic(this.topic),
      'alert-webhooks',
      {
        key: message.key ?? null,
        value: message.value ?? null,
        headers,
        source: {
          topic: this.topic,
          partition,
          offset: message.offset,
          timestamp: Number(message.timestamp),
        },
      },
      { code, message: text },
      // The DLQ has one partition whatever the alerts topic has, so nothing ties it to the source's.
      { partition: 'by-key' },
    );
  }
}
