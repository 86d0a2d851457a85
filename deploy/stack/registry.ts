/**
 * The Confluent-compatible schema registry (services/registry/main.ts), started once Kafka is healthy because
 * it keeps its schemas in a Kafka topic.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Endpoints } from '../../connectors/config/endpoints.js';
import { REPO_ROOT } from './paths.js';
import { errorText, hostPortOfUrl, externalReason } from './probe.js';
import { spawnDetached } from './process.js';
import { StackError } from './service.js';
import type { Health, ServiceContext, StackService } from './service.js';

export const REGISTRY_ENTRY = path.join('services', 'registry', 'main.ts');

export async function probeRegistry(url: string, timeoutMs = 3000): Promise<Health> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (res.status !== 200) return { ok: false, detail: `GET /healthz answered HTTP ${res.status}` };
    let version: string | undefined;
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && 'version' in parsed) version = String(parsed.version);
    } catch {
      /* a plain-text "ok" is fine too */
    }
    return { ok: true, version };
  } catch (err) {
    return { ok: false, detail: errorText(err) };
  }
}

export function registryService(endpoints: Endpoints, { paths, env }: ServiceContext): StackService {
  const url = endpoints.schemaRegistryUrl;
  const { host, port } = hostPortOfUrl(url);
  const logFile = path.join(paths.logsDir, 'registry.log');
  const managed = { name: 'registry', pidsDir: paths.pidsDir, marker: REGISTRY_ENTRY };
  return {
    name: 'registry',
    product: 'the schema registry',
    address: `${host}:${port}`,
    envVar: 'SCHEMA_REGISTRY_URL',
    externalReason: externalReason(endpoints.external.schemaRegistry, 'SCHEMA_REGISTRY_URL', host),
    managed,
    logFile,
    after: 'kafka',
    readyTimeoutMs: 60_000,
    probe: () => probeRegistry(url),
    async start() {
      const entry = path.join(REPO_ROOT, REGISTRY_ENTRY);
      if (!fs.existsSync(entry)) {
        throw new StackError(
          `registry entry point ${REGISTRY_ENTRY} is missing; it is not written yet (use --skip registry meanwhile) or set SCHEMA_REGISTRY_URL to a running one`,
        );
      }
      return spawnDetached(managed, {
        command: process.execPath,
        args: ['--import', 'tsx', REGISTRY_ENTRY],
        cwd: REPO_ROOT,
        logFile,
        env: { ...env, KAFKA_BROKERS: endpoints.kafkaBrokers.join(','), SCHEMA_REGISTRY_PORT: String(port) },
      });
    },
  };
}
