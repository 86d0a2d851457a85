/** Health of the platform's other services, by calling their public /healthz with a short timeout. */
import { ConfigError } from '../../connectors/config/endpoints.js';
import type { HealthProbe, ServiceHealth } from './sources.js';

export interface HealthTarget {
  readonly name: string;
  /** Full URL of the service's /healthz. */
  readonly url: string;
}

export function httpHealthProbe(targets: readonly HealthTarget[], timeoutMs = 1000): HealthProbe {
  return {
    check: () =>
      Promise.all(
        targets.map(async ({ name, url }): Promise<ServiceHealth> => {
          const started = performance.now();
          try {
            const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
            await res.body?.cancel();
            const latencyMs = Math.round(performance.now() - started);
            return res.ok
              ? { name, url, status: 'ok', latencyMs }
              : { name, url, status: 'down', latencyMs, error: `HTTP ${res.status}` };
          } catch (err) {
            const error =
              err instanceof Error
                ? err.cause instanceof Error
                  ? err.cause.message
                  : err.message
                : String(err);
            return { name, url, status: 'down', latencyMs: null, error };
          }
        }),
      ),
  };
}

/** Parses CONTROL_HEALTH_TARGETS, e.g. `registry=http://127.0.0.1:8081/healthz,serving=http://...`. */
export function parseHealthTargets(text: string | undefined): HealthTarget[] {
  if (!text) return [];
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const eq = entry.indexOf('=');
      const name = entry.slice(0, eq).trim();
      const url = entry.slice(eq + 1).trim();
      if (eq <= 0 || !URL.canParse(url)) {
        throw new ConfigError(
          `CONTROL_HEALTH_TARGETS entry "${entry}" must be name=url, e.g. registry=http://127.0.0.1:8081/healthz`,
        );
      }
      return { name, url };
    });
}
