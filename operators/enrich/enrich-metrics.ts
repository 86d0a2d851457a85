/** Counts features the enrich stage had to fill with their declared default. */
import client, { type Counter, type Registry } from 'prom-client';
import { sharedMetric } from '../../connectors/metrics.js';

const NAME = 'sluice_enrich_missing_features_total';

export function missingFeatureCounter(registry: Registry = client.register): Counter<'view' | 'feature'> {
  return sharedMetric(
    NAME,
    () =>
      new client.Counter({
        name: NAME,
        help: 'Features absent from the online store or the event, filled with their declared default',
        labelNames: ['view', 'feature'],
        registers: [registry],
      }),
    registry,
  );
}
