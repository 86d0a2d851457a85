/** Records/s for the status page, from a real prom-client counter sampled on each call. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { counterRateThroughput } from '../../services/control/throughput.js';

describe('counter-rate throughput', () => {
  it('derives records per second per topology from successive samples, null when unknown', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'sluice_records_in_total',
      help: 'test',
      labelNames: ['topology', 'partition'],
      registers: [registry],
    });
    let now = 0;
    const source = counterRateThroughput({ registry, windowMs: 10_000, now: () => now });

    assert.equal(await source.recordsPerSecond('scoring'), null, 'no series yet');
    counter.inc({ topology: 'scoring', partition: '0' }, 100);
    assert.equal(await source.recordsPerSecond('scoring'), null, 'one sample is not a rate');

    now = 2000;
    counter.inc({ topology: 'scoring', partition: '0' }, 300);
    counter.inc({ topology: 'scoring', partition: '1' }, 100);
    counter.inc({ topology: 'features', partition: '0' }, 5000);
    assert.equal(await source.recordsPerSecond('scoring'), 200);

    // Polled less often than the window: the last sample is still the baseline.
    now = 32_000;
    counter.inc({ topology: 'scoring', partition: '0' }, 600);
    assert.equal(await source.recordsPerSecond('scoring'), 20);

    // A reset counter (worker restart) gives no rate rather than a negative one.
    counter.reset();
    now = 33_000;
    counter.inc({ topology: 'scoring', partition: '0' }, 1);
    assert.equal(await source.recordsPerSecond('scoring'), null);
  });
});
