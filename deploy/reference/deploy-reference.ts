/**
 * `sluice deploy` for the reference deployment (transaction risk): creates the topics, registers the
 * feature views and applies the ClickHouse migrations of the feature, prediction and drift tables — every step
 * idempotent — and writes an audit record of who deployed what.
 */
import os from 'node:os';
import type { Kafka } from 'kafkajs';
import type { ClickHouseClient } from '../../connectors/clickhouse/clickhouse-client.js';
import { migratePredictionTables } from '../../connectors/clickhouse-tables/predictions.js';
import { ensureTopics, type TopicSpec } from '../../connectors/kafka/topics.js';
import { AuditLog, auditLogPath } from '../../services/common/index.js';
import { FEATURES_TOPIC } from '../../topologies/features/card-features.js';
import { setUpFeatureStore } from '../../topologies/features/feature-store-setup.js';
import { CARD_FEATURES_SOURCE } from '../../topologies/features/views/source.js';
import { DRIFT_METRICS_TOPIC, RETRAIN_REQUESTS_TOPIC } from '../../topologies/drift/drift-topology.js';
import { migrateDriftTables } from '../../topologies/drift/drift-table.js';
import { alertsTopicFromEnv, alertsTopicSpec } from '../../topologies/scoring/alerts.js';
import { MODEL_LIFECYCLE_TOPIC } from '../../topologies/scoring/lifecycle-publisher.js';

export const LABELS_TOPIC = 'txn.labels';
export const PREDICTIONS_TOPIC = 'predictions';

export function referenceTopics(partitions: number): TopicSpec[] {
  return [
    { topic: CARD_FEATURES_SOURCE.topic, numPartitions: partitions },
    { topic: LABELS_TOPIC, numPartitions: partitions },
    { topic: FEATURES_TOPIC, numPartitions: partitions },
    { topic: PREDICTIONS_TOPIC, numPartitions: partitions },
    // Lifecycle events must stay in order across all models: one partition.
    { topic: MODEL_LIFECYCLE_TOPIC, numPartitions: 1 },
    alertsTopicSpec(alertsTopicFromEnv()),
    // The drift topology's re-keyed input, then its outputs (see topologies/drift/drift-topology.ts).
    { topic: 'drift.samples', numPartitions: partitions },
    { topic: DRIFT_METRICS_TOPIC, numPartitions: partitions },
    { topic: RETRAIN_REQUESTS_TOPIC, numPartitions: partitions },
  ];
}

export interface DeployReport {
  readonly topics: readonly string[];
  readonly featureViews: readonly string[];
  readonly migrationsApplied: number;
}

export const deployActor = (env: NodeJS.ProcessEnv = process.env) =>
  env.SLUICE_ACTOR ?? os.userInfo().username;

export async function deployReference(
  kafka: Kafka,
  clickhouse: ClickHouseClient,
  options: { partitions: number; actor: string; audit?: AuditLog },
): Promise<DeployReport> {
  const topics = referenceTopics(options.partitions);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
  const features = await setUpFeatureStore(kafka, clickhouse);
  const predictions = await migratePredictionTables(clickhouse);
  const drift = await migrateDriftTables(clickhouse);
  const report: DeployReport = {
    topics: topics.map((t) => t.topic),
    featureViews: [
      ...features.registry.registered,
      ...features.registry.updated,
      ...features.registry.unchanged,
    ],
    migrationsApplied: features.migrations.applied.length + predictions.applied.length + drift.applied.length,
  };
  const audit = options.audit ?? (await AuditLog.open(auditLogPath()));
  await audit.record({
    actor: options.actor,
    action: 'deployment.deploy',
    target: 'reference:transaction-risk',
    details: { ...report, partitions: options.partitions },
  });
  return report;
}
