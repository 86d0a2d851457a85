/**
 * What a deploy does for the feature store before workers start: register every view version defined in
 * code in the view registry, and create the offline table of each (versioned migrations, idempotent).
 * Workers also apply their views' migrations on start (offlineStore.open), so this is belt and braces.
 */
import type { Kafka } from 'kafkajs';
import type { ClickHouseClient } from '@clickhouse/client';
import type { MigrationReport } from '../../connectors/clickhouse/migrations.js';
import { applyFeatureMigrations } from '../../connectors/feature-sinks/index.js';
import type { FeatureView } from './feature-view.js';
import { definedViews } from './view-catalog.js';
import { FeatureViewRegistry, type RegisterReport } from './view-registry-store.js';

export interface FeatureStoreSetupReport {
  readonly registry: RegisterReport;
  readonly migrations: MigrationReport;
}

export async function setUpFeatureStore(
  kafka: Kafka,
  clickhouse: ClickHouseClient,
  views: readonly FeatureView<unknown>[] = definedViews as readonly FeatureView<unknown>[],
): Promise<FeatureStoreSetupReport> {
  const migrations = await applyFeatureMigrations(clickhouse, views);
  const registry = await new FeatureViewRegistry(kafka).register(views);
  return { registry, migrations };
}
