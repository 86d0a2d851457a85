/**
 * Get-or-create for Prometheus metrics: prom-client refuses a second registration of a name, and a module
 * can be evaluated more than once per process (tests, several stages sharing a series).
 */
import { register as defaultRegistry, type Metric, type Registry } from 'prom-client';

export function sharedMetric<T extends Metric>(
  name: string,
  make: () => T,
  registry: Registry = defaultRegistry,
): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
