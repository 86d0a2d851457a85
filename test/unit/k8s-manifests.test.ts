/**
 * The Kubernetes manifests keep the rules the runtime relies on: one StatefulSet per shipped topology (the
 * pod name is the instance id, stable across restarts), probes on the worker's metrics port, a grace
 * period longer than the worker's own stop deadline, a ClickHouse server (chdb cannot be shared), and no
 * secret as an inline value.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadKafkaSecurity } from '../../connectors/config/kafka-security.js';
import { shippedTopologies } from '../../topologies/catalog.js';

const DIR = path.resolve('deploy/k8s');
/** topologies/runtime/run.ts forces exit this long after SIGTERM; Kubernetes must wait longer. */
const WORKER_STOP_DEADLINE_S = 45;

interface Doc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const docs: Doc[] = files
  .filter((f) => f !== 'kustomization.yaml')
  .flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(DIR, f), 'utf8')).map((d) => {
      assert.deepEqual(d.errors, [], `${f} parses`);
      return d.toJS() as Doc;
    }),
  );
const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);

test('kustomization lists every manifest file', () => {
  const k = parseAllDocuments(readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS() as {
    resources: string[];
  };
  assert.deepEqual([...k.resources].sort(), files.filter((f) => f !== 'kustomization.yaml').sort());
});

test('every shipped topology runs as a StatefulSet whose pod name is the instance id, with probes', () => {
  const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'sluice-config');
  assert.ok(config?.data, 'the sluice-config ConfigMap');
  const sets = new Map(ofKind('StatefulSet').map((s) => [s.metadata.name, s]));
  for (const t of shippedTopologies) {
    const set = sets.get(t.name);
    assert.ok(set, `a StatefulSet for ${t.name}`);
    assert.ok(
      ofKind('Service').some((s) => s.metadata.name === set.spec.serviceName && s.spec.clusterIP === 'None'),
      `${t.name}: its headless Service`,
    );
    const pod = set.spec.template.spec;
    const c = pod.containers[0];
    assert.deepEqual(c.args, ['run', t.name]);
    const instance = c.env.find((e: { name: string }) => e.name === 'SLUICE_INSTANCE_ID');
    assert.equal(
      instance?.valueFrom?.fieldRef?.fieldPath,
      'metadata.name',
      `${t.name}: instance id = pod name`,
    );
    const port = c.ports.find((p: { name: string }) => p.name === 'metrics')?.containerPort;
    assert.equal(
      String(port),
      config.data.SLUICE_METRICS_PORT,
      `${t.name}: metrics port matches SLUICE_METRICS_PORT`,
    );
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.ok(
      pod.terminationGracePeriodSeconds > WORKER_STOP_DEADLINE_S,
      `${t.name}: grace > ${WORKER_STOP_DEADLINE_S} s`,
    );
    assert.deepEqual(c.envFrom, [{ configMapRef: { name: 'sluice-config' } }]);
  }
  assert.match(config.data.CLICKHOUSE_URL ?? '', /^https?:\/\//, 'pods share a ClickHouse server, not chdb');
  assert.ok(config.data.KAFKA_BROKERS && config.data.SCHEMA_REGISTRY_URL);
});

test('no token, password or secret is an inline value; secrets are mounted files', () => {
  const containers = docs.flatMap((d) => d.spec?.template?.spec?.containers ?? []);
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (/TOKEN|SECRET|PASSWORD/.test(e.name) && !e.name.endsWith('_FILE')) {
        assert.equal(e.value, undefined, `${c.name}: ${e.name} must come from a file, not an inline value`);
      }
    }
  }
  for (const d of ofKind('ConfigMap')) {
    for (const key of Object.keys(d.data ?? {})) {
      if (!key.endsWith('_FILE')) assert.doesNotMatch(key, /TOKEN|SECRET|PASSWORD/);
    }
  }
  const secretVolumes = docs.flatMap((d) =>
    (d.spec?.template?.spec?.volumes ?? []).filter((v: { secret?: unknown }) => v.secret),
  );
  assert.deepEqual(secretVolumes.map((v: { secret: { secretName: string } }) => v.secret.secretName).sort(), [
    ...Array(7).fill('sluice-kafka-client'),
    ...Array(7).fill('sluice-store-credentials'),
    'sluice-tokens',
    'sluice-webhook',
  ]);
});

test('every pod reaches Kafka with the credentials the ConfigMap names, from the mounted Secret', () => {
  const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'sluice-config')!.data!;
  const security = loadKafkaSecurity({
    ...config,
    // The Secret's files exist only in a pod; the settings around them are checked here.
    KAFKA_SASL_PASSWORD_FILE: undefined,
    KAFKA_SSL_CA_FILE: undefined,
    KAFKA_SASL_PASSWORD: 'stands-for-the-file',
  });
  assert.equal(security.protocol, 'SASL_SSL', 'TLS and SASL on by default');
  const files = [config.KAFKA_SASL_PASSWORD_FILE, config.KAFKA_SSL_CA_FILE];
  const pods = docs.filter((d) => d.spec?.template?.spec?.containers);
  assert.equal(pods.length, 7);
  for (const pod of pods) {
    const spec = pod.spec.template.spec;
    const volume = spec.volumes.find(
      (v: { secret?: { secretName: string } }) => v.secret?.secretName === 'sluice-kafka-client',
    );
    assert.ok(volume, `${pod.metadata.name}: mounts the Kafka client Secret`);
    const mount = spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === volume.name);
    for (const file of files) {
      assert.equal(
        path.dirname(file!),
        mount.mountPath,
        `${pod.metadata.name}: ${file} is in the mounted Secret`,
      );
    }
  }
});

test('every pod has the ClickHouse and Redis passwords the ConfigMap names, from the mounted Secret', () => {
  const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'sluice-config')!.data!;
  assert.ok(
    config.CLICKHOUSE_PASSWORD_FILE && config.CLICKHOUSE_USER,
    'a ClickHouse user, its password from a file',
  );
  assert.ok(config.REDIS_PASSWORD_FILE, "Redis' password from a file");
  assert.equal(config.CLICKHOUSE_PASSWORD, undefined, 'never the password itself');
  assert.doesNotMatch(config.REDIS_CLUSTER_NODES ?? '', /@/, 'no password in the Redis addresses');
  const storeSecretFiles: string[] = [config.CLICKHOUSE_PASSWORD_FILE!, config.REDIS_PASSWORD_FILE!];
  const pods = docs.filter((d) => d.spec?.template?.spec?.containers);
  for (const pod of pods) {
    const spec = pod.spec.template.spec;
    const volume = spec.volumes.find(
      (v: { secret?: { secretName: string } }) => v.secret?.secretName === 'sluice-store-credentials',
    );
    assert.ok(volume, `${pod.metadata.name}: mounts the store credentials Secret`);
    const mount: { mountPath: string } | undefined = spec.containers[0].volumeMounts.find(
      (m: { name: string }) => m.name === volume.name,
    );
    for (const secretFile of storeSecretFiles) {
      assert.equal(
        path.dirname(secretFile),
        mount?.mountPath,
        `${pod.metadata.name}: ${secretFile} is in the mounted Secret`,
      );
    }
  }
});

test('the alert dispatcher and the trainer serve metrics (their rules read them) with probes', () => {
  const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'sluice-config')!.data!;
  for (const name of ['alert-webhooks', 'trainer']) {
    const deployment = ofKind('Deployment').find((d) => d.metadata.name === name);
    assert.ok(deployment, `a Deployment ${name}`);
    const template = deployment.spec.template;
    assert.equal(template.metadata.annotations?.['prometheus.io/scrape'], 'true', `${name}: scraped`);
    const c = template.spec.containers[0];
    const port = c.ports?.find((p: { name: string }) => p.name === 'metrics')?.containerPort;
    assert.equal(
      String(port),
      config.SLUICE_METRICS_PORT,
      `${name}: metrics port matches SLUICE_METRICS_PORT`,
    );
    assert.equal(String(template.metadata.annotations['prometheus.io/port']), config.SLUICE_METRICS_PORT);
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${name}: readiness`);
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${name}: liveness`);
  }
});
