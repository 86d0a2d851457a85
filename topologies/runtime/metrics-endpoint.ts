/**
 * What a worker process (and the alert dispatcher and the trainer) exposes for Prometheus and Kubernetes
 * probes, on SLUICE_METRICS_PORT:
 * GET /metrics (prom-client's default registry, where every Sluice metric lives), GET /healthz (the process
 * is up and not stopping: liveness) and GET /readyz (the worker holds a group assignment: readiness).
 * Plain node:http, read-only, no request bodies: nothing here needs a framework or auth beyond the pod
 * network, as with any Prometheus exporter.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { ConfigError } from '../../connectors/config/endpoints.js';

/** SLUICE_METRICS_PORT as a port, or undefined when unset (no endpoint); anything else fails fast. */
export function metricsPortFromEnv(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`SLUICE_METRICS_PORT=${raw} is not a port; e.g. SLUICE_METRICS_PORT=9464`);
  }
  return port;
}

export interface WorkerProbe {
  /** False once the worker is stopping or failed. */
  alive(): boolean;
  /** True while the worker is a group member with its assignment applied. */
  ready(): boolean;
  /** The exposition to serve; default: this thread's registry (a worker with stream threads merges theirs). */
  metrics?(): Promise<string>;
}

export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsEndpoint(
  probe: WorkerProbe,
  port: number,
  host = '0.0.0.0',
): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/metrics') {
      (probe.metrics ? probe.metrics() : register.metrics()).then(
        (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    const status = path === '/healthz' ? probe.alive() : path === '/readyz' ? probe.ready() : undefined;
    if (status === undefined) res.writeHead(404).end('not found: /metrics, /healthz, /readyz\n');
    else res.writeHead(status ? 200 : 503, { 'content-type': 'text/plain' }).end(status ? 'ok\n' : 'no\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
