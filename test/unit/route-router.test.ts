/** The router: deterministic per key (also across processes), weighted split, shadows on every route. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { ExperimentConfig } from '../../connectors/experiments/index.js';
import { InvalidExperimentError } from '../../connectors/experiments/index.js';
import { createRouter } from '../../operators/route/router.js';

const experiment = (over: Partial<ExperimentConfig> = {}): ExperimentConfig => ({
  name: 'exp',
  version: 3,
  createdAt: '2026-01-01T00:00:00.000Z',
  salt: 's1',
  variants: [
    { name: 'A', model: 'm', weight: 0.5 },
    { name: 'B', model: 'm2', weight: 0.3 },
    { name: 'C', model: 'm3', weight: 0.2 },
  ],
  shadows: [{ name: 'S', model: 'ms', modelVersion: '1' }],
  ...over,
});

test('the split matches the weights within 4 sigma and every route carries the shadows', () => {
  const router = createRouter(experiment());
  const n = 100_000;
  const counts: Record<string, number> = { A: 0, B: 0, C: 0 };
  for (let i = 0; i < n; i++) {
    const r = router.route(`card-${i}`);
    counts[r.served.name]! += 1;
    assert.equal(r.shadows.length, 1);
    assert.equal(r.experimentVersion, 3);
  }
  for (const [name, w] of [
    ['A', 0.5],
    ['B', 0.3],
    ['C', 0.2],
  ] as const) {
    const sigma = Math.sqrt(n * w * (1 - w));
    assert.ok(
      Math.abs(counts[name]! - n * w) <= 4 * sigma,
      `${name}: ${counts[name]} vs ${n * w} +- ${4 * sigma}`,
    );
  }
});

test('the same key gets the same variant from a new router and from another process', () => {
  const keys = Array.from({ length: 300 }, (_, i) => `k${i * 7919}`);
  const here = keys.map((k) => createRouter(experiment()).route(k).served.name);
  const again = createRouter(experiment());
  assert.deepEqual(
    keys.map((k) => again.route(k).served.name),
    here,
  );
  const script = `
    import { createRouter } from './operators/route/router.ts';
    const e = JSON.parse(process.argv[1]);
    const keys = JSON.parse(process.argv[2]);
    console.log(JSON.stringify(keys.map((k) => createRouter(e).route(k).served.name)));`;
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
      JSON.stringify(experiment()),
      JSON.stringify(keys),
    ],
    { encoding: 'utf8' },
  );
  assert.deepEqual(JSON.parse(out), here);
});

test('a new salt re-shuffles entities independently; a zero-weight variant is never served', () => {
  const a = createRouter(experiment());
  const b = createRouter(experiment({ salt: 's2' }));
  const n = 20_000;
  let same = 0;
  for (let i = 0; i < n; i++) if (a.route(`e${i}`).served.name === b.route(`e${i}`).served.name) same++;
  // Independent assignments agree with probability sum(w^2) = 0.25 + 0.09 + 0.04 = 0.38.
  const p = 0.38;
  assert.ok(Math.abs(same - n * p) <= 4 * Math.sqrt(n * p * (1 - p)), `agreement ${same / n}`);

  const zero = createRouter(
    experiment({
      variants: [
        { name: 'A', model: 'm', weight: 0 },
        { name: 'B', model: 'm2', weight: 1 },
      ],
    }),
  );
  for (let i = 0; i < 5000; i++) assert.equal(zero.route(`z${i}`).served.name, 'B');
});

test('an invalid experiment is refused with the reason', () => {
  assert.throws(
    () =>
      createRouter(
        experiment({
          variants: [
            { name: 'A', model: 'm', weight: 0.5 },
            { name: 'B', model: 'm', weight: 0.6 },
          ],
        }),
      ),
    (err: unknown) => err instanceof InvalidExperimentError && /add up to 1\.1/.test(err.message),
  );
});
