/**
 * Kafka 3.9.1, one KRaft node (broker + controller) on 127.0.0.1:9092, controller on the next port, and two
 * secured listeners for the TLS/SASL client paths (SASL_SSL on 9094, mutual TLS on 9095). Jars come
 * from Maven Central through deploy/stack/kafka/pom.xml into a per-user cache shared by every checkout.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Endpoints } from '../../connectors/config/endpoints.js';
import { kafkaSecurityConfig, loadKafkaSecurity } from '../../connectors/config/kafka-security.js';
import { STACK_ASSETS } from './paths.js';
import { errorText, hostPortOfBroker, withTimeout, externalReason } from './probe.js';
import { requireDiskSpace, requireProgram } from './prereqs.js';
import { spawnDetached } from './process.js';
import {
  ensureLocalKafkaTls,
  LOCAL_SASL_USER,
  readLocalSaslPassword,
  SCRAM_MECHANISMS,
  scramCredential,
  type LocalKafkaTls,
} from './kafka-tls.js';
import { StackError } from './service.js';
import type { Health, ServiceContext, StackService } from './service.js';

export const KAFKA_VERSION = '3.9.1';

/**
 * A KRaft cluster id: 16 random bytes in URL-safe base64 (22 characters), as Kafka's Uuid.randomUuid
 * makes them, which also never starts one with '-': the storage tool would take it for an option
 * ("argument --cluster-id/-t: expected one argument"), failing 1 fresh start in 64.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export async function probeKafka(brokers: readonly string[], timeoutMs = 5000): Promise<Health> {
  // The same TLS/SASL settings as every other client, so a secured external broker is probed as it is used.
  const kafka = new Kafka({
    clientId: 'sluice-stack-probe',
    brokers: [...brokers],
    ...kafkaSecurityConfig(loadKafkaSecurity()),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    const cluster = await withTimeout(
      'Kafka describeCluster',
      timeoutMs,
      admin.connect().then(() => admin.describeCluster()),
    );
    return { ok: true, detail: `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)` };
  } catch (err) {
    return { ok: false, detail: errorText(err) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The secured listeners sit after the controller: SASL_SSL on port + 2, mutual-TLS SSL on port + 3. */
export const saslSslPort = (port: number) => port + 2;
export const mutualTlsPort = (port: number) => port + 3;

function serverProperties(port: number, dataDir: string, tls: LocalKafkaTls, saslPassword: string): string {
  const controllerPort = port + 1;
  const listeners = [
    `PLAINTEXT://127.0.0.1:${port}`,
    `SASL_SSL://127.0.0.1:${saslSslPort(port)}`,
    `SSL://127.0.0.1:${mutualTlsPort(port)}`,
  ];
  return [
    '# Written by `sluice stack up`; regenerated on every start.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${listeners.join(',')},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=${listeners.join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL',
    // Secured listeners, so the client's TLS and SASL paths are tested against a real broker: PLAIN and
    // SCRAM (its credentials live in the cluster metadata, added at format) over TLS, and certificate-only
    // mutual TLS.
    'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${LOCAL_SASL_USER}="${saslPassword}";`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    // OAUTHBEARER with Kafka's unsecured validator: any well-formed, unexpired token whose `sub` names the
    // principal is accepted, unsigned. Enough to test the client's token path; a production broker checks
    // signatures against its issuer (sasl.oauthbearer.jwks.endpoint.url).
    'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${tls.brokerKeystoreFile}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${tls.caFile}`,
    'listener.name.ssl.ssl.client.auth=required',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=6',
    'group.initial.rebalance.delay.ms=0',
    // Topics are created on purpose by the topologies/CLI; a typo must not silently create one.
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

const scramAtFormat = (password: string): string[] =>
  SCRAM_MECHANISMS.flatMap((m) => ['--add-scram', scramCredential(m, password, LOCAL_SASL_USER)]);

/** Fills the jar cache once; a partial download never looks complete (copied to a temp dir, then renamed). */
export function ensureKafkaLibs(cacheDir: string, progress: (m: string) => void): string {
  const home = path.join(cacheDir, `kafka-${KAFKA_VERSION}`);
  const libs = path.join(home, 'libs');
  if (fs.existsSync(path.join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) return libs;
  requireProgram('mvn', 'install Maven: apt-get install -y maven');
  requireDiskSpace(cacheDir);
  progress(`fetching Kafka ${KAFKA_VERSION} jars from Maven Central into ${libs}...`);
  const tmp = `${libs}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const mvn = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      path.join(STACK_ASSETS, 'kafka', 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${tmp}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (mvn.status !== 0 || !fs.existsSync(path.join(tmp, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const why = `${mvn.stdout}\n${mvn.stderr}`.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    throw new StackError(
      `mvn could not fetch the Kafka jars (${why || `exit ${mvn.status}`}); check Maven Central access and ~/.m2`,
    );
  }
  fs.rmSync(libs, { recursive: true, force: true });
  fs.renameSync(tmp, libs);
  return libs;
}

export function kafkaService(endpoints: Endpoints, { paths }: ServiceContext): StackService {
  const broker = endpoints.kafkaBrokers[0] as string; // loadEndpoints guarantees at least one
  const { host, port } = hostPortOfBroker(broker);
  const home = path.join(paths.stateDir, 'kafka');
  const logFile = path.join(paths.logsDir, 'kafka.log');
  const managed = { name: 'kafka', pidsDir: paths.pidsDir, marker: 'kafka.Kafka' };
  return {
    name: 'kafka',
    product: 'Kafka',
    address: endpoints.kafkaBrokers.join(','),
    envVar: 'KAFKA_BROKERS',
    externalReason: externalReason(endpoints.external.kafka, 'KAFKA_BROKERS', host),
    managed,
    ownVersion: KAFKA_VERSION,
    logFile,
    readyTimeoutMs: 90_000,
    probe: () => probeKafka(endpoints.kafkaBrokers),
    async start(progress) {
      requireProgram('java', 'install a JDK 17+: apt-get install -y openjdk-17-jre-headless');
      requireDiskSpace(paths.stateDir);
      const libs = ensureKafkaLibs(paths.cacheDir, progress);
      const dataDir = path.join(home, 'data');
      fs.mkdirSync(dataDir, { recursive: true });
      const tls = ensureLocalKafkaTls(home, progress);
      const saslPassword = readLocalSaslPassword(tls);
      const props = path.join(home, 'server.properties');
      // It holds the local SASL password.
      fs.writeFileSync(props, serverProperties(port, dataDir, tls, saslPassword), { mode: 0o600 });
      fs.chmodSync(props, 0o600);
      const log4j = path.join(STACK_ASSETS, 'kafka', 'log4j.properties');
      const classpath = `${libs}/*`;
      if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
        progress('formatting KRaft storage...');
        const clusterId = newClusterId();
        const format = spawnSync(
          'java',
          [
            `-Dlog4j.configuration=file:${log4j}`,
            '-cp',
            classpath,
            'kafka.tools.StorageTool',
            'format',
            '-t',
            clusterId,
            '-c',
            props,
            // SCRAM credentials live in the cluster metadata: a fresh cluster gets the local user's at once.
            ...scramAtFormat(saslPassword),
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
        if (format.status !== 0) {
          const why = `${format.stdout}\n${format.stderr}`.trim().split('\n').pop();
          throw new StackError(`Kafka storage format failed (${why}); delete ${dataDir} and retry`);
        }
      }
      return spawnDetached(managed, {
        command: 'java',
        args: [
          '-Xmx512m',
          '-Xms256m',
          `-Dlog4j.configuration=file:${log4j}`,
          '-cp',
          classpath,
          'kafka.Kafka',
          props,
        ],
        cwd: home,
        logFile,
      });
    },
  };
}
