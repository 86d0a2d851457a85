/**
 * sluice_online_feature_age_seconds{view}: how old (now - event-time version) the online features are
 * when they are read. Get-or-create, so several readers in one process share the series.
 */
import { Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import { sharedMetric } from '../metrics.js';

export const FEATURE_AGE_METRIC = 'sluice_online_feature_age_seconds';

const AGE_BUCKETS_SECONDS = [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600];

export function featureAgeHistogram(registry: Registry = defaultRegistry): Histogram<'view'> {
  return sharedMetric(
    FEATURE_AGE_METRIC,
    () =>
      new Histogram({
        name: FEATURE_AGE_METRIC,
        help: 'Age of online features when read: read time minus the event-time version of the row',
        labelNames: ['view'],
        buckets: AGE_BUCKETS_SECONDS,
        registers: [registry],
      }),
    registry,
  );
}
