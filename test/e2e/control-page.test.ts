/**
 * The control web page in headless Chromium against a real control service (random port, in-memory
 * sources with known drift series and A/B numbers): log in through the form, then check the drift charts
 * and the A/B table show what the API serves. Leaves a screenshot in .state/screenshots/control-page.png.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { parseTokenList } from '../../services/common/index.js';
import { createControlService } from '../../services/control/server.js';
import type { AlertRecord } from '../../schemas/index.js';
import type { DriftSeries, ExperimentReport } from '../../services/control/sources.js';
import type { StatusDocument } from '../../services/control/status.js';
import {
  fixedHealth,
  fixedThroughput,
  InMemoryStageChanger,
  inMemoryAlerts,
  inMemoryDrift,
  inMemoryLag,
  inMemoryReports,
  inMemoryTopologies,
} from '../../services/control/testing/in-memory-sources.js';

const TOKEN = 'e2e-viewer-token-0123456789abcdef';
const HOUR = 3600_000;
const SCREENSHOT = path.resolve('.state', 'screenshots', 'control-page.png');

/** Hourly windows ending within the page's default 24 h range. */
function series(feature: string, metric: string, threshold: number, values: number[]): DriftSeries {
  const start = Math.floor(Date.now() / HOUR) * HOUR - values.length * HOUR;
  return {
    feature,
    metric,
    threshold,
    points: values.map((value, i) => ({
      windowStart: start + i * HOUR,
      value,
      sampleSize: 800 + 10 * i,
      breached: value > threshold,
    })),
  };
}

const drift = [
  series('amount', 'psi', 0.2, [0.04, 0.06, 0.05, 0.09, 0.12, 0.18, 0.24, 0.29, 0.22, 0.15, 0.11, 0.08]),
  series('merchant_category', 'chi2', 15, [3.1, 4.5, 2.2, 6.8, 9.9, 12.4, 8.1, 5.5]),
  series('prediction', 'ks', 0.1, [0.02, 0.03, 0.05, 0.04, 0.03, 0.06]),
];
const report: ExperimentReport = {
  experiment: 'fraud-ab',
  k: 100,
  confidence: 0.95,
  generatedAt: Date.now(),
  variants: [
    {
      variant: 'champion-v3',
      n: 48210,
      auc: 0.8412,
      logLoss: 0.31245,
      precisionAtK: 0.62,
      aucCi: { low: 0.8351, high: 0.8473 },
    },
    {
      variant: 'challenger-v4',
      n: 47985,
      auc: 0.8537,
      logLoss: 0.30112,
      precisionAtK: 0.66,
      aucCi: { low: 0.8478, high: 0.8596 },
    },
    {
      variant: 'shadow-mlp',
      n: 96195,
      auc: 0.8299,
      logLoss: 0.32871,
      precisionAtK: 0.58,
      aucCi: { low: 0.8255, high: 0.8343 },
    },
  ],
};

const alertAt = (minutesAgo: number, fields: Partial<AlertRecord>): AlertRecord => ({
  alertId: `alert-${minutesAgo}`,
  dedupKey: `k-${minutesAgo}`,
  kind: 'DRIFT',
  severity: 'WARNING',
  title: 't',
  message: 'm',
  model: 'fraud',
  modelVersion: '3',
  labels: {},
  ts: Date.now() - minutesAgo * 60_000,
  ...fields,
});
const alerts = [
  alertAt(30, { title: 'fraud@3 drifted: retraining requested' }),
  alertAt(5, {
    kind: 'RETRAIN',
    severity: 'INFO',
    modelVersion: '4',
    title: 'fraud@4 trained as a shadow of fraud@3',
  }),
  alertAt(1, { kind: 'MODEL_LIFECYCLE', severity: 'CRITICAL', title: 'fraud@4 rolled back: p99 latency' }),
];

describe('control page', () => {
  let dir: string;
  let app: FastifyInstance;
  let context: BrowserContext;
  let page: Page;
  let baseUrl: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sluice-e2e-'));
    app = await createControlService(
      {
        status: {
          topologies: inMemoryTopologies([
            { name: 'features', groupId: 'features', topics: ['txn.events'] },
            { name: 'scoring', groupId: 'scoring', topics: ['txn.events'] },
          ]),
          lag: inMemoryLag({
            features: [0, 1, 2].map((partition) => ({
              topic: 'txn.events',
              partition,
              committed: String(1000 - partition * 40),
              end: '1000',
              lag: partition * 40,
            })),
            scoring: [0, 1, 2].map((partition) => ({
              topic: 'txn.events',
              partition,
              committed: String(900 + partition),
              end: '1000',
              lag: 100 - partition,
            })),
          }),
          throughput: fixedThroughput({ features: 1520.4, scoring: 1498.7 }),
          health: fixedHealth([
            { name: 'schema-registry', url: 'http://127.0.0.1:8081/healthz', status: 'ok', latencyMs: 4 },
            {
              name: 'serving',
              url: 'http://127.0.0.1:8090/healthz',
              status: 'down',
              latencyMs: null,
              error: 'ECONNREFUSED',
            },
          ]),
        },
        drift: inMemoryDrift({ fraud: drift }),
        experiments: inMemoryReports([report]),
        models: new InMemoryStageChanger(),
        alerts: inMemoryAlerts(alerts),
      },
      {
        logger: pino({ level: 'silent' }),
        auditLogPath: path.join(dir, 'audit.log'),
        tokens: { mode: 'tokens', tokens: parseTokenList(`viewer:${TOKEN}:e2e`) },
      },
    );
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    context = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    await context?.close();
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const api = async <T>(url: string): Promise<T> =>
    (await fetch(`${baseUrl}${url}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Promise<T>;

  it('rejects a wrong token in the login form', async () => {
    await page.goto(`${baseUrl}/?model=fraud&experiment=fraud-ab`);
    await page.fill('#token', 'not-the-right-token-at-all');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error:has-text("not accepted")');
    assert.equal(await page.isVisible('#dashboard'), false);
  });

  it('logs in and shows live lag and throughput from /api/status', async () => {
    await page.fill('#token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#topologies tbody tr[data-topology="scoring"]');
    const status = await api<StatusDocument>('/api/status');
    for (const t of status.topologies) {
      const row = page.locator(`#topologies tr[data-topology="${t.name}"]`);
      assert.equal(await row.locator('td.lag').textContent(), t.lag!.total.toLocaleString('en-US'));
      assert.equal(await row.locator('td.rate').textContent(), t.recordsPerSecond!.toFixed(1));
      assert.equal(await row.locator('.bar').count(), t.lag!.partitions.length);
    }
    assert.equal(await page.locator('#services .chip.down').count(), 1);
    await page.waitForSelector('#who:has-text("e2e")');
    assert.equal(await page.locator('#who').textContent(), 'e2e (viewer)');
    // The token lives in session storage only.
    assert.equal(await page.evaluate('sessionStorage.getItem("sluice.token")'), TOKEN);
    assert.equal(await page.evaluate('localStorage.length'), 0);
  });

  it('lists the recent alerts newest first, as /api/alerts serves them', async () => {
    await page.waitForSelector('#alerts tbody tr.severity-critical');
    const served = await api<{ alerts: AlertRecord[] }>('/api/alerts?limit=20');
    const rows = await page
      .locator('#alerts tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent)),
      );
    assert.deepEqual(
      rows,
      served.alerts.map((a) => [a.severity, a.kind, `${a.model}@${a.modelVersion}`, a.title]),
    );
    assert.equal(rows[0]?.[3], 'fraud@4 rolled back: p99 latency', 'newest first');
  });

  it('draws one drift chart per series with one point per window and the threshold line', async () => {
    await page.waitForSelector('figure.drift');
    const served = await api<{ series: DriftSeries[] }>(`/api/drift?model=fraud`);
    assert.equal(await page.locator('figure.drift').count(), served.series.length);
    for (const s of served.series) {
      const figure = page.locator(`figure.drift[data-feature="${s.feature}"][data-metric="${s.metric}"]`);
      assert.equal(await figure.locator('circle.pt').count(), s.points.length, `${s.feature} points`);
      assert.equal(
        await figure.locator('circle.pt.breached').count(),
        s.points.filter((p) => p.breached).length,
      );
      assert.equal(await figure.locator('line.threshold').count(), 1);
      assert.equal(await figure.locator('text.threshold-label').textContent(), `threshold ${s.threshold}`);
      const values = await figure
        .locator('circle.pt')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      assert.deepEqual(
        values,
        s.points.map((p) => p.value),
      );
    }
  });

  it('shows the A/B table with every variant and the values the API serves', async () => {
    await page.waitForSelector('#ab-table tbody tr');
    const served = await api<ExperimentReport>('/api/experiments/fraud-ab/report');
    assert.equal(await page.locator('#ab-table tbody tr').count(), served.variants.length);
    assert.equal(await page.locator('#ab-pk-head').textContent(), `Precision@${served.k}`);
    for (const v of served.variants) {
      const row = page.locator(`#ab-table tr[data-variant="${v.variant}"]`);
      const cells = await row.locator('td').allTextContents();
      assert.deepEqual(cells, [
        v.variant,
        v.n.toLocaleString('en-US'),
        v.auc!.toFixed(3),
        `${v.aucCi!.low.toFixed(3)} – ${v.aucCi!.high.toFixed(3)}`,
        v.logLoss!.toFixed(4),
        v.precisionAtK!.toFixed(3),
      ]);
    }
    const best = served.variants.reduce((a, b) => (b.auc! > a.auc! ? b : a));
    assert.equal(await page.locator('#ab-table td.best').count(), 1);
    assert.equal(await page.locator(`#ab-table tr[data-variant="${best.variant}"] td.best`).count(), 1);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
