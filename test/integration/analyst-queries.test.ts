/**
 * README's ClickHouse section (for analysts) is executable: every `-- name:` query in it runs against
 * tables made by Sluice's own migrations, filled with rows in the shape the sinks write, each row inserted
 * twice as a replay after a crash would. Each result must equal the answer computed here from the distinct
 * rows: FINAL collapses the replays, and a query the schema no longer fits fails. Run on embedded chdb
 * (current ClickHouse), on the stack's 18.16 server, and on its 18.16 cluster through Distributed tables;
 * on the shared servers the tables live in a database of the run's own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  countFinal,
  countRaw,
  createClickHouseClient,
  type ClickHouseClient,
} from '../../connectors/clickhouse/index.js';
import {
  migratePredictionTables,
  type PredictionRow,
} from '../../connectors/clickhouse-tables/predictions.js';
import { loadEndpoints, type ClickHouseEndpoint } from '../../connectors/config/endpoints.js';
import {
  applyFeatureMigrations,
  featureTableName,
  toTableRow,
} from '../../connectors/feature-sinks/index.js';
import type { DriftMetricRecord, FeatureRowRecord } from '../../schemas/index.js';
import { LOCAL_CLUSTER_NAME } from '../../deploy/stack/clickhouse-cluster.js';
import { migrateDriftTables, toDriftMetricRow } from '../../topologies/drift/drift-table.js';
import { viewByName } from '../../topologies/features/view-catalog.js';
import { localClusterEndpoint, syncLocalClusterReplicas } from '../support/clickhouse-cluster.js';

const DOC = path.resolve('README.md');
const queries = new Map(
  [...readFileSync(DOC, 'utf8').matchAll(/```sql\n-- name: (\S+)\n([\s\S]*?)```/g)].map((m) => [
    m[1]!,
    m[2]!,
  ]),
);

const T0 = Date.parse('2026-03-02T10:00:00Z');
const MINUTE = 60_000;
const view = viewByName('card_txn_1m');

/** 12 transactions on 3 cards; even ones served by the champion (the challenger shadows them), odd ones by the challenger. */
const predictions: PredictionRow[] = Array.from({ length: 12 }, (_, i) => i).flatMap((i) => {
  const base = {
    eventId: `t${i}`,
    entity: `card-${(i % 3) + 1}`,
    eventTime: T0 + i * 1000,
    eventDate: '2026-03-02',
    model: 'fraud',
    experiment: 'fraud-ab',
    experimentVersion: 1,
    featureNames: ['amount', 'txnCount1m'],
    featureValues: [10 + i, i % 4],
    sourceTopic: 'txn.events',
    sourcePartition: 0,
    sourceOffset: i,
    loggedAt: T0 + 60_000,
  };
  const served = i % 2 === 0 ? 'champion' : 'challenger';
  const rows: PredictionRow[] = [
    {
      ...base,
      predictionId: `txn.events-0-${i}-${served}`,
      modelVersion: served === 'champion' ? '1' : '2',
      variant: served,
      shadow: 0,
      score: ((i * 37) % 100) / 100,
      latencyMs: 1 + (i % 5),
    },
  ];
  if (served === 'champion') {
    rows.push({
      ...base,
      predictionId: `txn.events-0-${i}-challenger`,
      modelVersion: '2',
      variant: 'challenger',
      shadow: 1,
      score: ((i * 53) % 100) / 100,
      latencyMs: 2,
    });
  }
  return rows;
});
/** Another experiment's prediction: the queries filter it out. */
const otherExperiment: PredictionRow = {
  ...predictions[0]!,
  predictionId: 'other-0',
  experiment: 'other',
  entity: 'card-9',
};
/** Labels for the first 9 transactions only (the rest have not arrived). */
const labels = Array.from({ length: 9 }, (_, i) => ({
  txnId: `t${i}`,
  entity: `card-${(i % 3) + 1}`,
  ts: T0 + 3_600_000,
  isFraud: i % 3 === 0 ? 1 : 0,
}));
const featureRows: FeatureRowRecord[] = [
  { entity: 'card-1', start: 0, n: 2, sum: 21 },
  { entity: 'card-1', start: 1, n: 1, sum: 13 },
  { entity: 'card-1', start: 3, n: 4, sum: 50.5 },
  { entity: 'card-2', start: 0, n: 1, sum: 11 },
].map((r) => ({
  view: view.name,
  viewVersion: 1,
  entity: r.entity,
  windowStart: T0 + r.start * MINUTE,
  windowEnd: T0 + (r.start + 1) * MINUTE,
  eventTime: T0 + (r.start + 1) * MINUTE,
  features: { txnCount1m: r.n, amountSum1m: r.sum, amountMean1m: r.sum / r.n },
}));
const drift: DriftMetricRecord[] = [
  ['fraud', '1', 'amount', 0.05, false, 0],
  ['fraud', '1', 'amount', 0.31, true, 1],
  ['fraud', '1', 'score', 0.27, true, 1],
  ['fraud', '2', 'amount', 0.4, true, 2],
  ['other', '1', 'amount', 0.9, true, 1],
].map(([model, modelVersion, feature, value, breached, windowIndex]) => ({
  model: model as string,
  modelVersion: modelVersion as string,
  target: feature === 'score' ? 'PREDICTION' : 'FEATURE',
  feature: feature as string,
  metric: 'PSI',
  value: value as number,
  threshold: 0.2,
  sampleSize: 500,
  breached: breached as boolean,
  consecutiveBreaches: breached ? 1 : 0,
  windowStart: T0 + (windowIndex as number) * 5 * MINUTE,
  windowEnd: T0 + ((windowIndex as number) + 1) * 5 * MINUTE,
}));

/** ClickHouse's JSON output quotes 64-bit integers: where the answer has a number, read the string as one. */
const asAnswered = (row: Record<string, unknown>, answer: Record<string, unknown> | undefined) =>
  Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      typeof answer?.[k] === 'number' && typeof v === 'string' ? Number(v) : v,
    ]),
  );
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
const byKey = <T>(rows: readonly T[], key: (r: T) => string) => {
  const groups = new Map<string, T[]>();
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
};

/** The answer to each documented query, from the distinct rows. */
function expected(name: string): Record<string, unknown>[] {
  const ab = predictions.filter((p) => p.experiment === 'fraud-ab');
  switch (name) {
    case 'variant-summary':
      return byKey(ab, (p) => `${p.variant}|${p.shadow}`).map((g) => ({
        variant: g[0]!.variant,
        shadow: g[0]!.shadow,
        predictions: g.length,
        meanScore: round4(g.reduce((s, p) => s + p.score, 0) / g.length),
        maxLatencyMs: Math.max(...g.map((p) => p.latencyMs)),
      }));
    case 'variant-precision': {
      const label = new Map(labels.map((l) => [l.txnId, l.isFraud]));
      const joined = ab.filter((p) => p.shadow === 0 && label.has(p.eventId));
      return byKey(joined, (p) => p.variant).map((g) => ({
        variant: g[0]!.variant,
        labelled: g.length,
        frauds: g.filter((p) => label.get(p.eventId) === 1).length,
        flagged: g.filter((p) => p.score >= 0.5).length,
        caught: g.filter((p) => p.score >= 0.5 && label.get(p.eventId) === 1).length,
      }));
    }
    case 'served-feature':
      return ab
        .filter((p) => p.entity === 'card-1' && p.shadow === 0)
        .sort((a, b) => a.eventTime - b.eventTime)
        .map((p) => ({
          eventId: p.eventId,
          modelVersion: p.modelVersion,
          amount: p.featureValues[0],
          score: p.score,
        }));
    case 'feature-history':
      return featureRows
        .filter((r) => r.entity === 'card-1')
        .map((r) => ({
          entity: r.entity,
          window_start: r.windowStart,
          window_end: r.windowEnd,
          txnCount1m: r.features.txnCount1m,
          amountSum1m: r.features.amountSum1m,
        }));
    case 'drift-breaches':
      return drift
        .filter((d) => d.model === 'fraud' && d.breached)
        .sort((a, b) => a.windowStart - b.windowStart || (a.feature < b.feature ? -1 : 1))
        .map((d) => ({
          modelVersion: d.modelVersion,
          feature: d.feature,
          metric: d.metric,
          windowStart: d.windowStart,
          value: d.value,
          threshold: d.threshold,
        }));
    default:
      throw new Error(`README.md has a query "${name}" that this test has no answer for; add one`);
  }
}

interface Mode {
  readonly name: string;
  /** Where the tables go: `sluice` in a fresh chdb folder; a database of this run's own on shared servers. */
  readonly database: string;
  readonly endpoint: () => ClickHouseEndpoint;
  /** ON CLUSTER for the database's DDL, and replicas to sync before reading. */
  readonly cluster?: string;
}

const runDatabase = `sluice_aq_${randomUUID().slice(0, 8)}`;
const chdbDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-analyst-queries-'));
const modes: Mode[] = [
  {
    name: 'embedded chdb (current ClickHouse)',
    database: 'sluice',
    endpoint: () => ({ mode: 'embedded', path: chdbDir }),
  },
  {
    name: 'ClickHouse 18.16 server',
    database: runDatabase,
    endpoint: () => ({
      mode: 'http',
      url: loadEndpoints().clickhouseHttpUrl,
      username: 'default',
      password: '',
      database: runDatabase,
    }),
  },
  {
    name: 'ClickHouse 18.16 cluster (Distributed tables)',
    database: runDatabase,
    endpoint: () => localClusterEndpoint(undefined, runDatabase),
    cluster: LOCAL_CLUSTER_NAME,
  },
];

/** The README's SQL for tables in `database` (the README names the production database, `sluice`). */
const inDatabase = (sql: string, database: string) => sql.replaceAll('sluice.', `${database}.`);

after(() => rmSync(chdbDir, { recursive: true, force: true }));

for (const mode of modes) {
  describe(`the README's ClickHouse queries on ${mode.name}`, () => {
    const { database } = mode;
    const onCluster = mode.cluster ? ` ON CLUSTER ${mode.cluster}` : '';
    const predictionsTable = `${database}.predictions`;
    const driftTable = `${database}.drift_metrics`;
    let client: ClickHouseClient;
    let admin: ClickHouseClient | undefined;

    before(async () => {
      const endpoint = mode.endpoint();
      if (endpoint.mode === 'http') {
        // The client's own database must exist before it connects to it; an operator creates it once.
        admin = createClickHouseClient({ ...endpoint, database: 'default', cluster: undefined });
        await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}${onCluster}` });
      }
      client = createClickHouseClient(endpoint);
      await migratePredictionTables(client, database);
      await migrateDriftTables(client, driftTable);
      await applyFeatureMigrations(client, [view]);
      // Twice each, the second a later replay: FINAL must show every key once.
      for (const replay of [0, 1]) {
        await client.insert({
          table: predictionsTable,
          values: [...predictions, otherExperiment].map((p) => ({ ...p, loggedAt: p.loggedAt + replay })),
          format: 'JSONEachRow',
        });
        await client.insert({ table: `${database}.labels`, values: labels, format: 'JSONEachRow' });
        await client.insert({
          table: featureTableName(view),
          values: featureRows.map((r) => toTableRow(view, r)),
          format: 'JSONEachRow',
        });
        await client.insert({
          table: driftTable,
          values: drift.map((d) => toDriftMetricRow(d, T0 + replay)),
          format: 'JSONEachRow',
        });
      }
      if (mode.cluster) {
        await syncLocalClusterReplicas([
          predictionsTable,
          `${database}.labels`,
          `${database}.${featureTableName(view)}`,
          driftTable,
        ]);
      }
    });
    after(async () => {
      await client?.close();
      await admin
        ?.command({ query: `DROP DATABASE IF EXISTS ${database}${onCluster}` })
        .catch(() => undefined);
      await admin?.close();
    });

    it('names the current feature table of card_txn_1m', () => {
      assert.match(
        queries.get('feature-history') ?? '',
        new RegExp(`FROM ${featureTableName(view)} FINAL`),
        'the view changed version: update the table name in README.md',
      );
    });

    it('has the documented queries', () => {
      assert.deepEqual([...queries.keys()].sort(), [
        'drift-breaches',
        'feature-history',
        'served-feature',
        'variant-precision',
        'variant-summary',
      ]);
    });

    for (const [name, sql] of queries) {
      it(`${name}: the documented query gives the answer`, async () => {
        const rows = await (
          await client.query({ query: inDatabase(sql, database), format: 'JSONEachRow' })
        ).json<Record<string, unknown>>();
        const want = expected(name);
        assert.ok(want.length > 0, `${name}: the fixture must give this query something to find`);
        assert.deepEqual(
          rows.map((r, i) => asAnswered(r, want[i])),
          want,
        );
      });
    }

    it('without FINAL the replays are still counted, which is why every query uses it', async () => {
      const final = await countFinal(client, predictionsTable);
      assert.equal(final, predictions.length + 1);
      assert.ok((await countRaw(client, predictionsTable)) >= final);
    });
  });
}
