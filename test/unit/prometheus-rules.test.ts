/**
 * The alerting rules on-call relies on (deploy/prometheus/rules.yaml): Prometheus' own promtool checks them
 * and runs their unit tests (rules.test.yaml: each alert fires on the series that should trip it and not on
 * healthy ones), and every metric they read is one the code registers, so a renamed metric cannot leave
 * an alert silently watching nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ensureDebianProgram } from '../../deploy/stack/prereqs.js';

const DIR = path.resolve('deploy/prometheus');
const CODE_DIRS = ['connectors', 'operators', 'topologies', 'services'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** Metric names the code registers with prom-client (`name: 'sluice_...'` or a NAME constant). */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of CODE_DIRS.flatMap((d) => sourceFiles(path.resolve(d)))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:name:|NAME =) '(sluice_[a-z0-9_]+)'/g)) {
      names.add(m[1] as string);
    }
  }
  return names;
}

test('every metric the alerting rules read is registered by the code', () => {
  const registered = registeredMetrics();
  assert.ok(registered.has('sluice_dead_letters_total'), 'the scan finds the metric definitions');
  const rules = readFileSync(path.join(DIR, 'rules.yaml'), 'utf8');
  const used = new Set([...rules.matchAll(/\b(sluice_[a-z0-9_]+)/g)].map((m) => m[1] as string));
  assert.ok(used.size >= 5, `rules read ${used.size} metrics`);
  for (const metric of used) {
    // Histograms are exposed as <name>_bucket, _sum and _count.
    const base = metric.replace(/_(bucket|sum|count)$/, '');
    assert.ok(registered.has(metric) || registered.has(base), `${metric} is not a metric the code registers`);
  }
});

test('promtool accepts the rules and their unit tests pass', () => {
  const promtool = ensureDebianProgram('promtool', 'prometheus', (m) => console.log(m));
  const check = spawnSync(promtool, ['check', 'rules', 'rules.yaml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: 11 rules found/);
  const run = spawnSync(promtool, ['test', 'rules', 'rules.test.yaml'], { cwd: DIR, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
