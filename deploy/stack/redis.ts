/** Redis (Debian's redis-server) on 127.0.0.1:6379, the online feature store. Data dir under the state dir. */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Endpoints } from '../../connectors/config/endpoints.js';
import { errorText, hostPortOfUrl, portOpen, withTimeout, externalReason } from './probe.js';
import { ensureDebianProgram, requireDiskSpace } from './prereqs.js';
import { spawnDetached } from './process.js';
import type { Health, ServiceContext, StackService } from './service.js';

export async function probeRedis(url: string, timeoutMs = 3000): Promise<Health> {
  // A refused connection is answered here: ioredis would leave its connect timer holding the process ~2 s.
  const target = hostPortOfUrl(url);
  if (!(await portOpen(target)))
    return { ok: false, detail: `nothing accepts connections on ${target.host}:${target.port}` };
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null, // a probe answers once; no reconnect loop
  });
  // ioredis reports a refused connection as "Connection is closed."; keep the socket error, which says why.
  let socketError: unknown;
  client.on('error', (err: unknown) => {
    socketError ??= err;
  });
  try {
    return await withTimeout(
      'Redis PING',
      timeoutMs,
      (async () => {
        await client.connect();
        const pong = await client.ping();
        if (pong !== 'PONG') return { ok: false, detail: `PING answered ${pong}` };
        const info = await client.info('server');
        const version = /redis_version:(\S+)/.exec(info)?.[1];
        return { ok: true, version };
      })(),
    );
  } catch (err) {
    return { ok: false, detail: errorText(socketError ?? err) };
  } finally {
    client.disconnect();
  }
}

export function redisService(endpoints: Endpoints, { paths }: ServiceContext): StackService {
  const { host, port } = hostPortOfUrl(endpoints.redisUrl);
  const logFile = path.join(paths.logsDir, 'redis.log');
  // redis-server rewrites its process title to "redis-server host:port", which is what /proc shows.
  const managed = { name: 'redis', pidsDir: paths.pidsDir, marker: 'redis-server' };
  return {
    name: 'redis',
    product: 'Redis',
    address: `${host}:${port}`,
    envVar: 'REDIS_URL',
    externalReason: externalReason(endpoints.external.redis, 'REDIS_URL', host),
    managed,
    logFile,
    readyTimeoutMs: 20_000,
    probe: () => probeRedis(endpoints.redisUrl),
    async start(progress) {
      const server = ensureDebianProgram('redis-server', 'redis-server', progress);
      requireDiskSpace(paths.stateDir);
      const dataDir = path.join(paths.stateDir, 'redis');
      fs.mkdirSync(dataDir, { recursive: true });
      return spawnDetached(managed, {
        command: server,
        // Debian's defaults otherwise; logs go to stdout, which the stack appends to the log file.
        args: [
          '--bind',
          '127.0.0.1',
          '--port',
          String(port),
          '--dir',
          dataDir,
          '--daemonize',
          'no',
          '--logfile',
          '',
        ],
        cwd: dataDir,
        logFile,
      });
    },
  };
}
