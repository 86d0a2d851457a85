/**
 * ClickHouse HTTP server (Debian clickhouse-server 18.16) on 127.0.0.1:8123 for the HTTP-path tests, with the
 * project's own config (deploy/stack/clickhouse/). The embedded default (chdb) needs no server.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Endpoints } from '../../connectors/config/endpoints.js';
import { STACK_ASSETS } from './paths.js';
import { errorText, hostPortOfUrl, oneLine, externalReason } from './probe.js';
import { ensureDebianProgram, requireDiskSpace } from './prereqs.js';
import { spawnDetached } from './process.js';
import type { Health, ServiceContext, StackService } from './service.js';

export async function probeClickHouse(
  url: string,
  auth: { username: string; password: string },
  timeoutMs = 3000,
): Promise<Health> {
  try {
    const res = await fetch(`${url}/?query=${encodeURIComponent('SELECT version()')}`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.text()).trim();
    if (!res.ok) return { ok: false, detail: `HTTP ${res.status}: ${oneLine(body)}` };
    // A server that is not ClickHouse may well answer 200; only a version number counts.
    if (!/^\d+(\.\d+)+$/.test(body))
      return { ok: false, detail: `SELECT version() answered "${oneLine(body, 60)}"` };
    return { ok: true, version: body };
  } catch (err) {
    return { ok: false, detail: errorText(err) };
  }
}

export function clickhouseService(endpoints: Endpoints, { paths }: ServiceContext): StackService {
  const url = endpoints.clickhouseHttpUrl;
  const { host, port } = hostPortOfUrl(url);
  const auth =
    endpoints.clickhouse.mode === 'http'
      ? { username: endpoints.clickhouse.username, password: endpoints.clickhouse.password }
      : { username: 'default', password: '' };
  const home = path.join(paths.stateDir, 'clickhouse');
  const logFile = path.join(paths.logsDir, 'clickhouse.log');
  const managed = { name: 'clickhouse', pidsDir: paths.pidsDir, marker: 'clickhouse' };
  return {
    name: 'clickhouse',
    product: 'ClickHouse',
    address: `${host}:${port}`,
    envVar: 'CLICKHOUSE_URL',
    externalReason: externalReason(endpoints.external.clickhouse, 'CLICKHOUSE_URL', host),
    managed,
    logFile,
    readyTimeoutMs: 60_000,
    probe: () => probeClickHouse(url, auth),
    async start(progress) {
      const server = ensureDebianProgram('clickhouse-server', 'clickhouse-server', progress);
      requireDiskSpace(paths.stateDir);
      const dir = (name: string) => {
        const d = path.join(home, name);
        fs.mkdirSync(d, { recursive: true });
        return `${d}/`; // ClickHouse wants the trailing slash on paths
      };
      // Runs fine as root with 18.16 (checked); everything it writes stays under the state dir.
      return spawnDetached(managed, {
        command: server,
        args: [
          `--config-file=${path.join(STACK_ASSETS, 'clickhouse', 'config.xml')}`,
          '--',
          `--http_port=${port}`,
          `--path=${dir('data')}`,
          `--tmp_path=${dir('tmp')}`,
          `--user_files_path=${dir('user_files')}`,
          `--format_schema_path=${dir('format_schemas')}`,
          `--logger.log=${path.join(paths.logsDir, 'clickhouse-server.log')}`,
          `--logger.errorlog=${path.join(paths.logsDir, 'clickhouse-server.err.log')}`,
        ],
        cwd: home,
        logFile,
      });
    },
  };
}
