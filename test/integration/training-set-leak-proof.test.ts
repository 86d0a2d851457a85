/**
 * Point-in-time training sets never leak the future: every label gets, per view, the latest feature row
 * whose window ended at or before the label time. Feature rows stamped just after a label carry a
 * distinctive value (LEAK); no cell of the set may hold it. The same assertion run on a set built with
 * the guard flipped to '>=' must fail, which proves the test can catch a leak. Runs on embedded chdb
 * (ASOF JOIN), on the ClickHouse 18.16 server (argMax form), and on the stack's 18.16 cluster (Distributed
 * tables over 2 shards x 2 replicas; `sluice stack up --with-clickhouse-cluster`).
 */
import assert from 'node:assert/strict';
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadEndpoints, type ClickHouseEndpoint } from '../../connectors/config/endpoints.js';
import {
  createClickHouseClient,
  dropReplacingTableStatements,
  SINGLE_NODE,
  tableLayoutOf,
  type ClickHouseClient,
} from '../../connectors/clickhouse/index.js';
import {
  applyFeatureMigrations,
  featureTableName,
  toTableRow,
  type FeatureViewSpec,
} from '../../connectors/feature-sinks/index.js';
import { localClusterEndpoint, syncLocalClusterReplicas } from '../support/clickhouse-cluster.js';
import { buildTrainingSet, type LabelEvent } from '../../services/training-set/index.js';

const LEAK = 999_999;
const runId = randomUUID().slice(0, 8);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-training-set-'));
const modes: { name: string; endpoint: ClickHouseEndpoint }[] = [
  { name: 'embedded chdb (ASOF JOIN)', endpoint: { mode: 'embedded', path: path.join(tmp, 'chdb') } },
  {
    name: 'ClickHouse 18.16 over HTTP (argMax form)',
    endpoint: {
      mode: 'http',
      url: loadEndpoints().clickhouseHttpUrl,
      username: 'default',
      password: '',
      database: 'default',
    },
  },
  {
    name: 'ClickHouse 18.16 cluster over HTTP (argMax form, Distributed tables)',
    endpoint: localClusterEndpoint(),
  },
];

const spec = (suffix: string): FeatureViewSpec => ({
  name: `leak_${runId}_${suffix}`,
  version: 'abcd0123',
  versionNumber: randomInt(1, 2 ** 31 - 2),
  features: { amountSum: 'double', txnCount: 'double' },
  ttlMs: 7 * 86_400_000,
});

interface Row {
  entity: string;
  windowStart: number;
  windowEnd: number;
  amountSum: number | null;
  txnCount: number;
}

const T0 = 1_700_000_000_000;
const MIN = 60_000;

/** Windows every minute per entity, honest values; plus a LEAK row ending 1 ms after each label. */
function dataset() {
  const rows: Row[] = [];
  const labels: LabelEvent[] = [];
  for (let e = 0; e < 12; e += 1) {
    const entity = `card-${e}`;
    for (let w = 0; w < 10; w += 1) {
      const windowStart = T0 + (w + e) * MIN;
      // One window per entity has a missing mean-like value, to check NULLs pass through as blanks.
      rows.push({
        entity,
        windowStart,
        windowEnd: windowStart + MIN,
        amountSum: w === 3 ? null : e * 100 + w,
        txnCount: w + 1,
      });
    }
    // Labels: inside the history, exactly at a window end (allowed), and before any window (no features).
    const times = [T0 + (e + 4) * MIN + 30_000, T0 + (e + 7) * MIN, T0 + (e + 1) * MIN - 1];
    for (const [i, ts] of times.entries()) {
      labels.push({ entity, ts, label: String((e + i) % 2) });
      // The future: a window that ended 1 ms after the label, with a value no honest window has.
      rows.push({
        entity,
        windowStart: ts - MIN + 1 + i,
        windowEnd: ts + 1,
        amountSum: LEAK,
        txnCount: LEAK,
      });
    }
  }
  labels.push({ entity: 'card-unknown', ts: T0 + 5 * MIN, label: '1' });
  return { rows, labels };
}

/** The reference, computed by brute force: latest window_end <= ts, else nothing. */
function expectedCsv(rows: Row[], labels: LabelEvent[], view: string): string {
  const sorted = [...labels].sort(
    (a, b) => a.ts - b.ts || a.entity.localeCompare(b.entity) || a.label.localeCompare(b.label),
  );
  const lines = [`entity,ts,label,${view}.window_end,${view}.amountSum,${view}.txnCount`];
  for (const l of sorted) {
    const best = rows
      .filter((r) => r.entity === l.entity && r.windowEnd <= l.ts)
      .sort((a, b) => b.windowEnd - a.windowEnd)[0];
    const cells = best ? [best.windowEnd, best.amountSum ?? '', best.txnCount] : ['', '', ''];
    lines.push([l.entity, l.ts, l.label, ...cells].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Needs a set built with includeWindowEnd (column 4 is the used row's window end). */
function assertNoLeak(csv: string): void {
  const lines = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
  const cells = lines.flat();
  assert.ok(!cells.includes(String(LEAK)), 'a feature row stamped after its label reached the training set');
  for (const [, ts, , windowEnd] of lines) {
    if (windowEnd)
      assert.ok(
        Number(windowEnd) <= Number(ts),
        `a row stamped after its label was used (window_end ${windowEnd} > ${ts})`,
      );
  }
}

for (const mode of modes) {
  describe(`point-in-time training set (${mode.name})`, () => {
    let client: ClickHouseClient;
    const tables: string[] = [];
    const cluster = mode.endpoint.mode === 'http' ? mode.endpoint.cluster : undefined;

    it(
      'uses only windows that ended at or before each label, and a flipped guard is caught',
      { timeout: 60_000 },
      async () => {
        client = createClickHouseClient(mode.endpoint);
        const view = spec(cluster ? 'cluster' : mode.endpoint.mode);
        tables.push(featureTableName(view));
        await applyFeatureMigrations(client, [view]);
        const { rows, labels } = dataset();
        const tableRows = rows.map((r) =>
          toTableRow(view, {
            view: view.name,
            viewVersion: view.versionNumber,
            entity: r.entity,
            windowStart: r.windowStart,
            windowEnd: r.windowEnd,
            eventTime: r.windowEnd,
            features:
              r.amountSum === null
                ? { txnCount: r.txnCount }
                : { amountSum: r.amountSum, txnCount: r.txnCount },
          }),
        );
        // Twice, as a replay would: the ReplacingMergeTree + FINAL must make it count once.
        await client.insert({ table: featureTableName(view), values: tableRows, format: 'JSONEachRow' });
        await client.insert({ table: featureTableName(view), values: tableRows, format: 'JSONEachRow' });
        if (cluster) await syncLocalClusterReplicas([`default.${featureTableName(view)}`]);

        const out = path.join(tmp, `${view.name}.csv`);
        let lastProgress: [number, number] = [0, 0];
        const result = await buildTrainingSet({
          client,
          labels: { kind: 'events', events: labels },
          views: [view],
          out,
          includeWindowEnd: true,
          onProgress: (done, total) => (lastProgress = [done, total]),
        });
        const csv = readFileSync(out, 'utf8');
        assert.equal(result.dialect, mode.endpoint.mode === 'embedded' ? 'asof' : 'legacy');
        assert.equal(result.rows, labels.length);
        assert.deepEqual(lastProgress, [labels.length, labels.length]);
        assert.equal(result.sha256, createHash('sha256').update(csv).digest('hex'));
        assertNoLeak(csv);
        assert.equal(csv, expectedCsv(rows, labels, view.name));

        const again = await buildTrainingSet({
          client,
          labels: { kind: 'events', events: labels },
          views: [view],
          out: `${out}.2`,
          includeWindowEnd: true,
        });
        assert.equal(again.sha256, result.sha256, 'the same inputs give the same set (lineage hash)');

        // Prove the test can fail: with window_end >= ts the LEAK rows are the nearest matches.
        const leaky = path.join(tmp, `${mode.endpoint.mode}-leaky.csv`);
        await buildTrainingSet({
          client,
          labels: { kind: 'events', events: labels },
          views: [view],
          out: leaky,
          unsafeGuard: '>=',
          includeWindowEnd: true,
        });
        assert.throws(() => assertNoLeak(readFileSync(leaky, 'utf8')), /stamped after its label/);
      },
    );

    after(async () => {
      // On the cluster: the Distributed table and the replicated tables under it, on every node.
      const layout = client ? tableLayoutOf(client) : SINGLE_NODE;
      for (const query of tables.flatMap((t) => dropReplacingTableStatements(`default.${t}`, layout)))
        await client?.command({ query }).catch(() => undefined);
      if (mode.endpoint.mode === 'http') await client?.close();
    });
  });
}

after(() => rmSync(tmp, { recursive: true, force: true }));
