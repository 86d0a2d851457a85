// The control page: log in with a token (kept in sessionStorage), then poll /api/status and the recent
// alerts every 2 s and load drift charts and A/B results on request. Plain DOM code; all text goes in through textContent.
import { driftChart } from './charts.js';

const TOKEN_KEY = 'sluice.token';
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });
  const body = await res.json().catch(() => undefined);
  if (res.status === 401) {
    logout('Your token was not accepted; log in again.');
    throw new ApiError(401, body);
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

const fmt = (v, digits) => (v === null || v === undefined ? '–' : v.toFixed(digits));
const fmtInt = (v) => v.toLocaleString('en-US');

// ---- session -------------------------------------------------------------------------------------------

let pollTimer;

async function showWho() {
  try {
    const me = await api('/api/whoami');
    $('who').textContent = `${me.name} (${me.role})`;
  } catch {
    $('who').textContent = '';
  }
}

function showLoggedIn() {
  showWho();
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('session').hidden = false;
  pollStatus();
  if ($('drift-model').value) loadDrift();
  if ($('ab-experiment').value) loadReport();
}

function logout(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(pollTimer);
  pollTimer = undefined;
  $('dashboard').hidden = true;
  $('session').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').value = '';
  $('token').focus();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('login-error').textContent = '';
  try {
    await api('/api/whoami'); // checks the token before showing the dashboard
    showLoggedIn();
  } catch (err) {
    if (err.status !== 401) $('login-error').textContent = `Could not reach the API: ${err.message}`;
  }
});
$('logout').addEventListener('click', () => logout());

// ---- live status ---------------------------------------------------------------------------------------

function renderStatus(status) {
  const body = $('topologies').tBodies[0];
  body.replaceChildren();
  if (status.topologies.length === 0) {
    const row = body.insertRow();
    const td = cell(row, 'No topologies are registered with this control service.', 'muted');
    td.colSpan = 5;
  }
  for (const t of status.topologies) {
    const row = body.insertRow();
    row.dataset.topology = t.name;
    cell(row, t.name, 'name');
    cell(row, t.groupId, 'mono');
    cell(row, t.recordsPerSecond === null ? '–' : fmt(t.recordsPerSecond, 1), 'num rate');
    cell(row, t.lag ? fmtInt(t.lag.total) : 'error', t.lag ? 'num lag' : 'num lag error');
    const parts = cell(row, '', 'partitions');
    if (!t.lag) {
      parts.textContent = t.lagError ?? 'lag unavailable';
      parts.classList.add('error');
      continue;
    }
    const max = Math.max(1, ...t.lag.partitions.map((p) => p.lag));
    for (const p of t.lag.partitions) {
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.title = `${p.topic}[${p.partition}] lag ${p.lag} (committed ${p.committed ?? 'none'}, end ${p.end})`;
      const label = document.createElement('span');
      label.textContent = `${p.topic}[${p.partition}]`;
      const fill = document.createElement('i');
      fill.style.width = `${(p.lag / max) * 100}%`;
      const value = document.createElement('b');
      value.textContent = fmtInt(p.lag);
      bar.append(label, fill, value);
      parts.append(bar);
    }
  }
  const services = $('services');
  services.replaceChildren();
  for (const s of status.services) {
    const li = document.createElement('li');
    li.className = `chip ${s.status}`;
    li.textContent = `${s.name}: ${s.status}${s.latencyMs === null ? '' : ` (${s.latencyMs} ms)`}`;
    if (s.error) li.title = s.error;
    services.append(li);
  }
  if (status.services.length === 0) services.textContent = 'No services configured.';
  $('status-updated').textContent = `updated ${new Date(status.at).toLocaleTimeString()}`;
}

function renderAlerts(alerts) {
  const body = $('alerts').tBodies[0];
  body.replaceChildren();
  for (const a of alerts) {
    const row = body.insertRow();
    row.className = `severity-${a.severity.toLowerCase()}`;
    cell(row, new Date(a.ts).toLocaleString());
    cell(row, a.severity);
    cell(row, a.kind);
    cell(row, a.model === null ? '–' : `${a.model}${a.modelVersion ? `@${a.modelVersion}` : ''}`);
    cell(row, a.title).title = a.message;
  }
  if (alerts.length === 0) cell(body.insertRow(), 'No alerts.').colSpan = 5;
}

async function pollStatus() {
  clearTimeout(pollTimer);
  try {
    renderStatus(await api('/api/status'));
    $('status-error').textContent = '';
  } catch (err) {
    if (err.status === 401) return; // logged out; stop polling
    $('status-error').textContent = `Status unavailable: ${err.message}`;
  }
  try {
    renderAlerts((await api('/api/alerts?limit=20')).alerts);
    $('alerts-error').textContent = '';
  } catch (err) {
    if (err.status === 401) return;
    $('alerts-error').textContent = `Alerts unavailable: ${err.message}`;
  }
  // Schedule after completion, so a slow API never stacks requests.
  if (sessionStorage.getItem(TOKEN_KEY)) pollTimer = setTimeout(pollStatus, POLL_MS);
}

// ---- drift ---------------------------------------------------------------------------------------------

async function loadDrift() {
  const model = $('drift-model').value.trim();
  const rangeMs = Number($('drift-range').value);
  const to = new Date();
  const from = new Date(to.getTime() - rangeMs);
  sessionStorage.setItem('sluice.model', model);
  const charts = $('drift-charts');
  $('drift-error').textContent = '';
  try {
    const q = new URLSearchParams({ model, from: from.toISOString(), to: to.toISOString() });
    const version = $('drift-version').value.trim();
    if (version) q.set('version', version);
    const drift = await api(`/api/drift?${q}`);
    charts.replaceChildren();
    if (drift.series.length === 0) charts.textContent = `No drift windows for ${model} in this range.`;
    const range = { from: Date.parse(drift.from), to: Date.parse(drift.to) };
    for (const series of drift.series) {
      const figure = document.createElement('figure');
      figure.className = 'drift';
      figure.dataset.feature = series.feature;
      figure.dataset.metric = series.metric;
      const caption = document.createElement('figcaption');
      const breaches = series.points.filter((p) => p.breached).length;
      const title = document.createElement('strong');
      title.textContent = `${series.feature} · ${series.metric.toUpperCase()}`;
      const meta = document.createElement('span');
      meta.className = breaches ? 'badge bad' : 'badge ok';
      meta.textContent = breaches
        ? `${breaches} of ${series.points.length} windows over`
        : `${series.points.length} windows ok`;
      caption.append(title, meta);
      figure.append(caption, driftChart(series, range));
      charts.append(figure);
    }
  } catch (err) {
    if (err.status !== 401) $('drift-error').textContent = `Drift unavailable: ${err.message}`;
  }
}

$('drift-form').addEventListener('submit', (event) => {
  event.preventDefault();
  loadDrift();
});

// ---- A/B results ---------------------------------------------------------------------------------------

async function loadReport() {
  const name = $('ab-experiment').value.trim();
  sessionStorage.setItem('sluice.experiment', name);
  $('ab-error').textContent = '';
  try {
    const report = await api(`/api/experiments/${encodeURIComponent(name)}/report`);
    const pct = Math.round(report.confidence * 100);
    $('ab-ci-head').textContent = `AUC ${pct}% CI`;
    $('ab-pk-head').textContent = `Precision@${report.k}`;
    const best = Math.max(...report.variants.map((v) => v.auc ?? -Infinity));
    const body = $('ab-table').tBodies[0];
    body.replaceChildren();
    for (const v of report.variants) {
      const row = body.insertRow();
      row.dataset.variant = v.variant;
      cell(row, v.variant, 'name');
      cell(row, fmtInt(v.n), 'num n');
      cell(row, fmt(v.auc, 3), v.auc !== null && v.auc === best ? 'num auc best' : 'num auc');
      cell(row, v.aucCi ? `${v.aucCi.low.toFixed(3)} – ${v.aucCi.high.toFixed(3)}` : '–', 'num ci');
      cell(row, fmt(v.logLoss, 4), 'num logloss');
      cell(row, fmt(v.precisionAtK, 3), 'num pk');
    }
    $('ab-table').hidden = false;
    $('ab-note').textContent =
      `Report generated ${new Date(report.generatedAt).toLocaleString()}. Best AUC in bold.`;
  } catch (err) {
    $('ab-table').hidden = true;
    if (err.status !== 401) $('ab-error').textContent = `Report unavailable: ${err.message}`;
  }
}

$('ab-form').addEventListener('submit', (event) => {
  event.preventDefault();
  loadReport();
});

// ---- start ---------------------------------------------------------------------------------------------

const params = new URLSearchParams(document.location.search);
$('drift-model').value = params.get('model') ?? sessionStorage.getItem('sluice.model') ?? '';
$('ab-experiment').value = params.get('experiment') ?? sessionStorage.getItem('sluice.experiment') ?? '';
if (sessionStorage.getItem(TOKEN_KEY)) showLoggedIn();
else logout();
