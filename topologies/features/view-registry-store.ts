/**
 * The persisted view registry: a compacted Kafka topic `_sluice_feature_views`, one record per view
 * version (key `name@version`, value the JSON descriptor with registration times).
 *
 * Why Kafka and not a ClickHouse table: Kafka is the one service every Sluice process already talks to,
 * and it is shared — in the embedded mode the offline store (chdb) belongs to one process, so a CLI could
 * not read a registry kept there while a worker runs. Compaction keeps the latest record per key
 * forever, so every version ever registered stays listable and diffable, and the topic doubles as a
 * change log the control service can follow (the built-in schema registry stores its subjects the same way).
 */
import type { Kafka } from 'kafkajs';
import { readToEnd } from '../../connectors/kafka/read-to-end.js';
import { ensureTopics } from '../../connectors/kafka/topics.js';
import { describeView, type FeatureViewDescriptor } from './feature-view.js';

export const VIEW_REGISTRY_TOPIC = '_sluice_feature_views';

export interface RegisteredView {
  readonly descriptor: FeatureViewDescriptor;
  /** When this version was first registered (epoch ms). */
  readonly registeredAt: number;
  /** When its metadata last changed (owner, tags, ttl, ...); the version stays the same for those. */
  readonly updatedAt: number;
}

export interface RegisterReport {
  readonly registered: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
}

export const registryKey = (d: Pick<FeatureViewDescriptor, 'name' | 'version'>) => `${d.name}@${d.version}`;

/** The registry as it stands: the latest record per key of the compacted topic, read to its end. */
async function readRegistry(
  kafka: Kafka,
  topic: string,
  timeoutMs: number,
): Promise<Map<string, RegisteredView>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic, numPartitions: 1, compacted: true }]);
  } finally {
    await admin.disconnect();
  }
  const out = new Map<string, RegisteredView>();
  await readToEnd(
    kafka,
    topic,
    (_partition, message) => {
      const key = message.key?.toString('utf8');
      if (key === undefined) return;
      if (message.value === null) {
        out.delete(key);
        return;
      }
      try {
        out.set(key, JSON.parse(message.value.toString('utf8')) as RegisteredView);
      } catch {
        // A record we cannot read is skipped, not fatal: the registry stays listable.
      }
    },
    { timeoutMs, groupPrefix: 'sluice-feature-views-reader' },
  );
  return out;
}

export class FeatureViewRegistry {
  constructor(
    private readonly kafka: Kafka,
    private readonly topic = VIEW_REGISTRY_TOPIC,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Every registered version, keyed by `name@version`. */
  all(): Promise<Map<string, RegisteredView>> {
    return readRegistry(this.kafka, this.topic, this.timeoutMs);
  }

  /** The versions of one view, oldest registration first. */
  async versions(name: string): Promise<RegisteredView[]> {
    const all = await this.all();
    return [...all.values()]
      .filter((v) => v.descriptor.name === name)
      .sort(
        (a, b) => a.registeredAt - b.registeredAt || a.descriptor.version.localeCompare(b.descriptor.version),
      );
  }

  /** Publishes new versions and metadata changes; unchanged versions are not written again. */
  async register(views: readonly FeatureViewDescriptor[], now = Date.now()): Promise<RegisterReport> {
    const existing = await this.all();
    const registered: string[] = [];
    const updated: string[] = [];
    const unchanged: string[] = [];
    const messages: { key: string; value: string }[] = [];
    for (const view of views) {
      const descriptor = describeView(view);
      const key = registryKey(descriptor);
      const prev = existing.get(key);
      if (prev && JSON.stringify(prev.descriptor) === JSON.stringify(descriptor)) {
        unchanged.push(key);
        continue;
      }
      (prev ? updated : registered).push(key);
      const entry: RegisteredView = { descriptor, registeredAt: prev?.registeredAt ?? now, updatedAt: now };
      messages.push({ key, value: JSON.stringify(entry) });
    }
    if (messages.length > 0) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        await producer.send({ topic: this.topic, acks: -1, messages });
      } finally {
        await producer.disconnect();
      }
    }
    return { registered, updated, unchanged };
  }
}
