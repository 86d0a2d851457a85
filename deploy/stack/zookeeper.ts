/**
 * ZooKeeper on 127.0.0.1:2181, only for the local ClickHouse cluster (Replicated tables and ON CLUSTER
 * DDL keep their state in it; Kafka itself runs KRaft and needs none). Its jars are already in Kafka's jar
 * cache (kafka_2.13 3.9 still depends on ZooKeeper 3.8), so nothing more is downloaded.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureKafkaLibs } from './kafka.js';
import { STACK_ASSETS } from './paths.js';
import { errorText } from './probe.js';
import { requireDiskSpace, requireProgram } from './prereqs.js';
import { spawnDetached } from './process.js';
import type { Health, ServiceContext, StackService } from './service.js';

export const LOCAL_ZOOKEEPER_PORT = 2181;

/** Sends a four-letter word and returns the whole answer (ZooKeeper closes the connection after it). */
function fourLetterWord(port: number, word: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no answer to "${word}" in ${timeoutMs} ms`)),
    );
    socket.on('connect', () => socket.end(word));
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

export async function probeZooKeeper(port: number, timeoutMs = 3000): Promise<Health> {
  try {
    const status = await fourLetterWord(port, 'srvr', timeoutMs);
    const version = /Zookeeper version: ([\d.]+)/.exec(status)?.[1];
    if (!version) return { ok: false, detail: `"srvr" answered "${status.slice(0, 60)}"` };
    const mode = /Mode: (\w+)/.exec(status)?.[1];
    return { ok: true, version, detail: mode ? `mode ${mode}` : undefined };
  } catch (err) {
    return { ok: false, detail: errorText(err) };
  }
}

export function zookeeperService({ paths }: ServiceContext): StackService {
  const port = LOCAL_ZOOKEEPER_PORT;
  const home = path.join(paths.stateDir, 'zookeeper');
  const logFile = path.join(paths.logsDir, 'zookeeper.log');
  const managed = { name: 'zookeeper', pidsDir: paths.pidsDir, marker: 'ZooKeeperServerMain' };
  return {
    name: 'zookeeper',
    product: 'ZooKeeper',
    address: `127.0.0.1:${port}`,
    envVar: 'CLICKHOUSE_CLUSTER',
    externalReason: undefined,
    managed,
    logFile,
    readyTimeoutMs: 30_000,
    probe: () => probeZooKeeper(port),
    async start(progress) {
      requireProgram('java', 'install a JDK 17+: apt-get install -y openjdk-17-jre-headless');
      requireDiskSpace(paths.stateDir);
      const libs = ensureKafkaLibs(paths.cacheDir, progress);
      const dataDir = path.join(home, 'data');
      fs.mkdirSync(dataDir, { recursive: true });
      const config = path.join(home, 'zoo.cfg');
      fs.writeFileSync(
        config,
        [
          '# Written by `sluice stack up --with-clickhouse-cluster`; regenerated on every start.',
          'tickTime=2000',
          `dataDir=${dataDir}`,
          `clientPort=${port}`,
          'clientPortAddress=127.0.0.1',
          'admin.enableServer=false',
          // srvr answers the stack's probe.
          '4lw.commands.whitelist=srvr,ruok',
          // Old snapshots and logs are purged, so a long-lived dev state dir does not grow without bound.
          'autopurge.snapRetainCount=3',
          'autopurge.purgeInterval=1',
          '',
        ].join('\n'),
      );
      return spawnDetached(managed, {
        command: 'java',
        args: [
          '-Xmx256m',
          `-Dlog4j.configuration=file:${path.join(STACK_ASSETS, 'kafka', 'log4j.properties')}`,
          '-cp',
          `${libs}/*`,
          'org.apache.zookeeper.server.ZooKeeperServerMain',
          config,
        ],
        cwd: home,
        logFile,
      });
    },
  };
}
