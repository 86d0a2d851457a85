/**
 * Child process of the feature-store bench: measures ClickHouse inserts on embedded chdb in a fresh temp
 * folder. It runs apart because chdb allows one data folder per process, and the bench process may
 * already have (or later need) another. Prints one JSON line (ClickHouseInsertRates) on stdout.
 *
 *   node --import tsx test/bench/chdb-insert-child.ts <rows> <rounds> <maxRows>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClickHouseClient } from '../../connectors/clickhouse/index.js';
import { measureClickHouseInserts } from './clickhouse-insert-rate.js';

const [rows, rounds, maxRows] = process.argv.slice(2).map(Number);
if (!Number.isInteger(rows) || !Number.isInteger(rounds) || !Number.isInteger(maxRows)) {
  console.error('usage: chdb-insert-child.ts <rows> <rounds> <maxRows> (positive integers)');
  process.exit(2);
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-chdb-'));
const client = createClickHouseClient({ mode: 'embedded', path: dir });
try {
  const rates = await measureClickHouseInserts(client, rows!, rounds!, maxRows!);
  process.stdout.write(`${JSON.stringify(rates)}\n`);
} finally {
  await client.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
// chdb keeps native threads alive; exit explicitly once the result is out.
process.exit(0);
