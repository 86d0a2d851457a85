/**
 * The registry's log on a compacted, single-partition Kafka topic (`_sluice_schemas` by default). One
 * partition keeps a total order of changes; compaction keeps the latest value per key (see log-records.ts).
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { restoreChangelog } from '../../connectors/kafka/changelog-restore.js';
import { ensureTopics, partitionCount } from '../../connectors/kafka/topics.js';
import { ConfigError } from '../../connectors/config/endpoints.js';
import { decodeLogRecord, encodeLogRecord, type LogRecord } from './log-records.js';
import type { SchemaLog } from './schema-log.js';

export const DEFAULT_SCHEMAS_TOPIC = '_sluice_schemas';

export async function openKafkaSchemaLog(kafka: Kafka, topic: string, logger: Logger): Promise<SchemaLog> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const partitions = await partitionCount(admin, topic);
    if (partitions !== undefined && partitions !== 1) {
      throw new ConfigError(
        `schema topic ${topic} has ${partitions} partitions; the registry needs exactly 1 for a total order of ` +
          `changes. Point SCHEMA_REGISTRY_TOPIC at another topic or recreate ${topic} with 1 partition.`,
      );
    }
    await ensureTopics(admin, [{ topic, numPartitions: 1, compacted: true }]);
  } finally {
    await admin.disconnect();
  }
  // Not idempotent: a retried duplicate re-states the same key/value, which applying twice leaves unchanged.
  const producer: Producer = kafka.producer({
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();

  return {
    async readAll(): Promise<LogRecord[]> {
      const restored = await restoreChangelog(kafka, topic, [0]);
      const records: LogRecord[] = [];
      for (const [key, value] of restored.get(0) ?? []) {
        const record = decodeLogRecord(key, value);
        if (record) records.push(record);
        else logger.warn({ topic, key }, 'skipping a schema log record this registry does not understand');
      }
      return records;
    },
    async append(records: readonly LogRecord[]): Promise<void> {
      if (records.length === 0) return;
      await producer.send({
        topic,
        acks: -1,
        messages: records.map(encodeLogRecord).map(({ key, value }) => ({ key, value, partition: 0 })),
      });
    },
    async close(): Promise<void> {
      await producer.disconnect();
    },
  };
}
