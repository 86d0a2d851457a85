/**
 * ClickHouse insert rates of the offline feature store: the same feature rows inserted into the view's
 * ReplacingMergeTree through ClickHouseBatchWriter (chunks of `maxRows`, as the offline sink does) and,
 * as the baseline, with one bare `client.insert` of all rows. Rounds alternate the two so drift in the
 * machine's load hits both; the median round is reported.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import {
  ClickHouseBatchWriter,
  dropReplacingTableStatements,
  replacingTableStatements,
  tableLayoutOf,
} from '../../connectors/clickhouse/index.js';
import {
  featureTableName,
  featureTableSpec,
  toTableRow,
  type FeatureTableRow,
} from '../../connectors/feature-sinks/index.js';
import { benchFeatureRows, benchViewSpec } from './bench-feature-rows.js';
import { median } from './latency-stats.js';

export interface ClickHouseInsertRates {
  readonly version: string;
  readonly rows: number;
  readonly maxRows: number;
  /** rows/s through ClickHouseBatchWriter (add all, then flush). */
  readonly writerRowsPerSecond: number;
  /** rows/s of one client.insert call with every row. */
  readonly bareRowsPerSecond: number;
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

export async function measureClickHouseInserts(
  client: ClickHouseClient,
  rows: number,
  rounds: number,
  maxRows = 5000,
): Promise<ClickHouseInsertRates> {
  const version = await serverVersion(client);
  const spec = benchViewSpec();
  const table = featureTableName(spec);
  const values: FeatureTableRow[] = benchFeatureRows(spec, rows, Date.now()).map((r) => toTableRow(spec, r));
  // The client's layout: one table on a single node; on a cluster, Replicated tables under a Distributed one.
  const layout = tableLayoutOf(client);
  for (const ddl of replacingTableStatements(featureTableSpec(spec), layout))
    await client.command({ query: ddl });
  try {
    // Warm-up: first insert pays for connection setup and table metadata loads.
    await client.insert({ table, values: values.slice(0, 1000), format: 'JSONEachRow' });
    const writerRates: number[] = [];
    const bareRates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const writer = new ClickHouseBatchWriter<FeatureTableRow>(client, table, {
        maxRows,
        maxDelayMs: 60_000,
        maxBufferedRows: rows,
      });
      let start = process.hrtime.bigint();
      for (const row of values) writer.add(row);
      await writer.flush();
      writerRates.push(rows / seconds(start));

      start = process.hrtime.bigint();
      await client.insert({ table, values, format: 'JSONEachRow' });
      bareRates.push(rows / seconds(start));
    }
    return {
      version,
      rows,
      maxRows,
      writerRowsPerSecond: median(writerRates),
      bareRowsPerSecond: median(bareRates),
    };
  } finally {
    for (const query of dropReplacingTableStatements(table, layout)) {
      await client.command({ query }).catch(() => undefined);
    }
  }
}

async function serverVersion(client: ClickHouseClient): Promise<string> {
  const result = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
  const [row] = await result.json<{ v: string }>();
  return row?.v ?? 'unknown';
}
