import { Counter } from 'prom-client';
import { sharedMetric } from '../../connectors/metrics.js';

const NAME = 'sluice_window_late_events_total';

/**
 * Records that arrived after all their windows had closed (sent to the late side output). Registered
 * once on the default registry; the guard keeps a second copy of this module (e.g. tests, tsx reloads)
 * from throwing "metric already registered".
 */
export const lateEventsCounter: Counter<'topology' | 'partition'> = sharedMetric(
  NAME,
  () =>
    new Counter({
      name: NAME,
      help: 'Events later than the window grace period, sent to the late side output',
      labelNames: ['topology', 'partition'] as const,
    }),
);
