/**
 * The A/B report against rows with a known answer: AUC (with ties), log loss and precision@k are computed
 * here independently (brute force over all positive/negative pairs, direct sums, a sort), and the bootstrap
 * interval is checked for determinism, coverage and width. Run on embedded chdb, on the HTTP server
 * (ClickHouse 18.16 in the local stack) when it is reachable, and on the stack's ClickHouse cluster, where
 * the report reads Distributed tables over 2 shards x 2 replicas.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createClickHouseClient, type ClickHouseClient } from '../../connectors/clickhouse/index.js';
import type { ClickHouseEndpoint } from '../../connectors/config/endpoints.js';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import {
  insertLabels,
  LABELS_TABLE,
  migratePredictionTables,
  PREDICTIONS_TABLE,
  toPredictionRow,
} from '../../connectors/clickhouse-tables/predictions.js';
import type { Prediction } from '../../connectors/experiments/prediction.js';
import { localClusterEndpoint, syncLocalClusterReplicas } from '../support/clickhouse-cluster.js';
import { experimentReport } from '../../services/experiments-report/experiment-report.js';

const run = randomUUID().slice(0, 8);
const httpUrl = loadEndpoints().clickhouseHttpUrl;

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Row {
  variant: string;
  score: number;
  label: 0 | 1;
}

/** Variant A separates well, B less; scores are rounded so ties are frequent. */
function dataset(): Row[] {
  const rand = lcg(7);
  const rows: Row[] = [];
  for (const [variant, signal, n] of [
    ['A', 1.6, 1500],
    ['B', 0.5, 1200],
  ] as const) {
    for (let i = 0; i < n; i++) {
      const label = rand() < 0.2 ? 1 : 0;
      const logit = -1.5 + signal * (label ? 1 : -1) * rand() + (rand() - 0.5);
      rows.push({ variant, score: Math.round(100 / (1 + Math.exp(-logit))) / 100, label });
    }
  }
  return rows;
}

function bruteAuc(rows: Row[]): number {
  const pos = rows.filter((r) => r.label === 1).map((r) => r.score);
  const neg = rows.filter((r) => r.label === 0).map((r) => r.score);
  let wins = 0;
  for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

/** Resample rows, brute-force AUC each time, take the 2.5/97.5 percentiles. */
function naiveBootstrap(rows: Row[], resamples: number, seed: number): [number, number] {
  const rand = lcg(seed);
  const aucs: number[] = [];
  for (let b = 0; b < resamples; b++) {
    aucs.push(bruteAuc(rows.map(() => rows[Math.floor(rand() * rows.length)]!)));
  }
  aucs.sort((x, y) => x - y);
  return [aucs[Math.floor(0.025 * resamples)]!, aucs[Math.floor(0.975 * resamples)]!];
}

const logLoss = (rows: Row[]) =>
  rows.reduce((s, r) => {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, r.score));
    return s - (r.label ? Math.log(p) : Math.log(1 - p));
  }, 0) / rows.length;

function prediction(id: string, r: Row, experiment: string, shadow = false): Prediction {
  return {
    predictionId: `${id}-${shadow ? 'S' : r.variant}`,
    eventId: id,
    entity: `card-${id}`,
    eventTime: Date.UTC(2026, 0, 1),
    model: 'm',
    modelVersion: '1',
    variant: shadow ? 'S' : r.variant,
    experiment,
    experimentVersion: 1,
    shadow,
    score: r.score,
    latencyMs: 1,
    features: { a: 1, b: 2 },
    sourceTopic: 't',
    sourcePartition: 0,
    sourceOffset: 0,
  };
}

const modes: { name: string; endpoint: () => ClickHouseEndpoint; available: () => Promise<boolean> }[] = [
  {
    name: 'embedded chdb',
    endpoint: () => ({ mode: 'embedded', path: mkdtempSync(path.join(os.tmpdir(), 'ab-report-')) }),
    available: async () => true,
  },
  {
    name: `http ${httpUrl}`,
    endpoint: () => ({ mode: 'http', url: httpUrl, username: 'default', password: '', database: 'default' }),
    available: async () => {
      try {
        return (await fetch(`${httpUrl}/ping`, { signal: AbortSignal.timeout(2000) })).ok;
      } catch {
        return false;
      }
    },
  },
  {
    name: 'cluster sluice via node s1r1',
    endpoint: () => localClusterEndpoint(),
    // `npm run test:integration` starts the cluster; it is not optional there.
    available: async () => true,
  },
];

const clients: ClickHouseClient[] = [];

for (const mode of modes) {
  describe(`experimentReport on ${mode.name}`, async () => {
    const up = await mode.available();
    it('matches metrics computed independently', { skip: up ? false : 'server not reachable' }, async () => {
      const client = createClickHouseClient(mode.endpoint());
      clients.push(client);
      await migratePredictionTables(client);
      const experiment = `ab-${run}-${mode.name.split(' ')[0]}`;
      const rows = dataset();
      const ids = rows.map((_, i) => `${experiment}-t${i}`);
      const predictions = rows.map((r, i) => prediction(ids[i]!, r, experiment));
      const shadows = rows.map((r, i) => prediction(ids[i]!, { ...r, score: 0.5 }, experiment, true));
      // A replay (same ids), an unlabelled prediction and another experiment's rows must not count.
      const noise = [
        ...predictions.slice(0, 300),
        prediction(`${experiment}-unlabelled`, { variant: 'A', score: 0.99, label: 1 }, experiment),
        {
          ...prediction(ids[0]!, { variant: 'A', score: 0.01, label: 0 }, `${experiment}-other`),
          predictionId: `${experiment}-other-0`,
        },
      ];
      for (const batch of [predictions, shadows, noise]) {
        await client.insert({
          table: PREDICTIONS_TABLE,
          values: batch.map((p) => toPredictionRow(p, 1)),
          format: 'JSONEachRow',
        });
      }
      await insertLabels(
        client,
        rows.map((r, i) => ({ txnId: ids[i]!, entity: 'x', ts: 1, isFraud: r.label === 1 })),
      );
      // Replicas copy in the background; the report must see every row on whichever replica it reads.
      if (mode.name.startsWith('cluster')) await syncLocalClusterReplicas([PREDICTIONS_TABLE, LABELS_TABLE]);

      const k = 50;
      const report = await experimentReport(client, experiment, { k, resamples: 300, seed: 5 });
      assert.deepEqual(
        report.variants.map((v) => `${v.variant}${v.shadow ? '(shadow)' : ''}`),
        ['A', 'B', 'S(shadow)'],
      );
      for (const name of ['A', 'B']) {
        const mine = rows.filter((r) => r.variant === name);
        const v = report.variants.find((x) => x.variant === name && !x.shadow)!;
        assert.equal(v.n, mine.length);
        assert.equal(v.positives, mine.filter((r) => r.label).length);
        const auc = bruteAuc(mine);
        assert.ok(Math.abs(v.auc - auc) < 1e-12, `${name} AUC ${v.auc} vs ${auc}`);
        assert.ok(Math.abs(v.logLoss - logLoss(mine)) < 1e-9, `${name} log loss`);
        // precision@k: expected share over every order of rows tied at the cut-off.
        const sorted = [...mine].sort((a, b) => b.score - a.score);
        const cut = sorted[k - 1]!.score;
        const above = sorted.filter((r) => r.score > cut);
        const tied = sorted.filter((r) => r.score === cut);
        const expected =
          (above.filter((r) => r.label).length +
            ((k - above.length) * tied.filter((r) => r.label).length) / tied.length) /
          k;
        assert.ok(Math.abs(v.precisionAtK - expected) < 1e-12, `${name} precision@${k}`);
        // Bootstrap CI: covers the estimate, and agrees with a naive row-level bootstrap done here.
        const [lo, hi] = v.aucCi95;
        assert.ok(lo <= v.auc && v.auc <= hi, `${name} CI [${lo}, ${hi}] excludes ${v.auc}`);
        const [nlo, nhi] = naiveBootstrap(mine, 200, 99);
        const ratio = (hi - lo) / (nhi - nlo);
        assert.ok(ratio > 0.7 && ratio < 1.4, `${name} CI [${lo}, ${hi}] vs naive [${nlo}, ${nhi}]`);
        assert.ok(Math.abs((lo + hi) / 2 - (nlo + nhi) / 2) < (nhi - nlo) / 2, `${name} CI centre`);
      }
      const shadow = report.variants.find((x) => x.shadow)!;
      assert.equal(shadow.auc, 0.5, 'a constant shadow score has AUC 0.5 (all ties)');
      const again = await experimentReport(client, experiment, { k, resamples: 300, seed: 5 });
      assert.deepEqual(again, report, 'same data and seed -> same report');
      const otherSeed = await experimentReport(client, experiment, { k, resamples: 300, seed: 6 });
      assert.notDeepEqual(otherSeed.variants[0]!.aucCi95, report.variants[0]!.aucCi95);
    });
  });
}

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
});
