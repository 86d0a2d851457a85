/**
 * offlineStore(view): the ClickHouse sink of a feature view. On open it applies the view's table
 * migration (so a worker start creates the table of a new view version); each write() inserts the batch
 * in chunks of `maxRows` and resolves only when ClickHouse stored every chunk. Replays are absorbed by the
 * ReplacingMergeTree (same entity and window, same version): read with FINAL for exact answers.
 */
import { ClickHouseBatchWriter } from '../clickhouse/batch-writer.js';
import type { ClickHouseEndpoint } from '../config/endpoints.js';
import type { FeatureRowRecord } from '../../schemas/index.js';
import type { Sink } from '../sink.js';
import { acquireClickHouse } from './clickhouse-pool.js';
import { checkViewName, featureTableName, type FeatureViewSpec } from './feature-view-spec.js';
import { applyFeatureMigrations, toTableRow, type FeatureTableRow } from './feature-table.js';
import { rowsOfView } from './online-store.js';

export interface OfflineStoreOptions {
  /** Rows per INSERT (default 5000). */
  readonly maxRows?: number;
  /** Endpoint override; defaults to the worker's endpoints (CLICKHOUSE_URL or the embedded chdb folder). */
  readonly endpoint?: ClickHouseEndpoint;
  /** Retry budget of one write attempt before the runtime's own backoff takes over (default 10 s). */
  readonly attemptBudgetMs?: number;
}

export function offlineStore(
  view: FeatureViewSpec,
  options: OfflineStoreOptions = {},
): Sink<FeatureRowRecord> {
  checkViewName(view.name);
  const table = featureTableName(view);
  const maxRows = options.maxRows ?? 5000;
  if (!Number.isSafeInteger(maxRows) || maxRows <= 0) {
    throw new RangeError(`offlineStore(${view.name}): maxRows must be a positive integer, got ${maxRows}`);
  }
  return {
    name: `offline:${view.name}`,
    async open(env) {
      const shared = acquireClickHouse(options.endpoint ?? env.endpoints.clickhouse);
      try {
        await applyFeatureMigrations(shared.client, [view]);
      } catch (err) {
        await shared.release();
        throw err;
      }
      const logger = env.logger.child({ sink: `offline:${view.name}`, table });
      return {
        async write(records) {
          const rows = rowsOfView(view, records).map((v) => toTableRow(view, v));
          if (rows.length === 0) return;
          // A writer per call: a failed call leaves nothing buffered, and the runtime's retry re-sends
          // exactly this batch (the table's replacing key makes a partly stored batch harmless).
          const writer = new ClickHouseBatchWriter<FeatureTableRow>(shared.client, table, {
            maxRows,
            maxDelayMs: 60_000,
            maxBufferedRows: rows.length,
            retry: { maxRetryTimeMs: options.attemptBudgetMs ?? 10_000, maxDelayMs: 2000 },
            onRetry: ({ attempt, error }) =>
              logger.warn({ attempt, err: error.message, rows: rows.length }, 'offline insert retry'),
          });
          for (const row of rows) writer.add(row);
          await writer.flush();
        },
        async close() {
          await shared.release();
        },
      };
    },
  };
}
