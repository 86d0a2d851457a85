/**
 * Local TLS and SASL material for the stack broker's secured listeners, made once per state directory:
 * a private CA, a broker certificate for 127.0.0.1/localhost, a client certificate for mutual TLS, and
 * the SASL password of user `sluice`. Throwaway credentials for this machine only: production brokers
 * come with their own, named to Sluice by KAFKA_SSL_* and KAFKA_SASL_* (connectors/config/kafka-security.ts).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureDebianProgram } from './prereqs.js';
import { StackError } from './service.js';

export const LOCAL_SASL_USER = 'sluice';
export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/**
 * A SCRAM credential in Kafka's own syntax, for the storage tool's --add-scram (which names the user) and
 * ConfigCommand's --add-config (which takes the user from --entity-name).
 */
export function scramCredential(
  mechanism: (typeof SCRAM_MECHANISMS)[number],
  password: string,
  user?: string,
): string {
  return `${mechanism}=[${user === undefined ? '' : `name=${user},`}iterations=8192,password=${password}]`;
}

export interface LocalKafkaTls {
  readonly dir: string;
  /** PEM CA certificate: what clients trust. */
  readonly caFile: string;
  /** PEM private key (PKCS#8) followed by the broker certificate: the broker's PEM keystore. */
  readonly brokerKeystoreFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** SASL password of LOCAL_SASL_USER (PLAIN, and SCRAM once registered). */
  readonly saslPasswordFile: string;
}

/** The local SASL password, as written by ensureLocalKafkaTls. */
export const readLocalSaslPassword = (tls: LocalKafkaTls): string =>
  fs.readFileSync(tls.saslPasswordFile, 'utf8').trim();

export function localKafkaTls(kafkaHome: string): LocalKafkaTls {
  const dir = path.join(kafkaHome, 'security');
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    brokerKeystoreFile: path.join(dir, 'broker.pem'),
    clientCertFile: path.join(dir, 'client.crt'),
    clientKeyFile: path.join(dir, 'client.key'),
    saslPasswordFile: path.join(dir, 'sasl-password'),
  };
}

function openssl(bin: string, args: readonly string[], cwd: string): void {
  const run = spawnSync(bin, [...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0) {
    const why = `${run.stderr}`.trim().split('\n').pop() ?? `exit ${run.status}`;
    throw new StackError(
      `openssl ${args[0]} failed (${why}); check that \`${bin} version\` works, then run \`sluice stack up\` again`,
    );
  }
}

/** A key and a certificate signed by the local CA, with `extensions` (one per line, openssl syntax). */
function signed(bin: string, dir: string, name: string, subject: string, extensions: readonly string[]) {
  fs.writeFileSync(path.join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  openssl(
    bin,
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ],
    dir,
  );
  openssl(
    bin,
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '3650',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
}

/** Creates what is missing; an existing set is kept, so clients configured with it stay valid. */
export function ensureLocalKafkaTls(kafkaHome: string, progress: (m: string) => void): LocalKafkaTls {
  const files = localKafkaTls(kafkaHome);
  const complete = [
    files.caFile,
    files.brokerKeystoreFile,
    files.clientCertFile,
    files.clientKeyFile,
    files.saslPasswordFile,
  ];
  if (complete.every((f) => fs.existsSync(f))) return files;
  const bin = ensureDebianProgram('openssl', 'openssl', progress);
  progress('making local TLS certificates and a SASL password for the secured Kafka listeners...');
  // Made aside and renamed into place, so an interrupted run never leaves half a set that looks complete.
  const tmp = `${files.dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  openssl(
    bin,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '3650',
      '-subj',
      '/CN=sluice-local-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    tmp,
  );
  signed(bin, tmp, 'broker', '/CN=127.0.0.1', [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'extendedKeyUsage=serverAuth',
  ]);
  signed(bin, tmp, 'client', `/CN=${LOCAL_SASL_USER}`, ['extendedKeyUsage=clientAuth']);
  fs.writeFileSync(
    path.join(tmp, 'broker.pem'),
    fs.readFileSync(path.join(tmp, 'broker.key'), 'utf8') +
      fs.readFileSync(path.join(tmp, 'broker.crt'), 'utf8'),
  );
  fs.writeFileSync(path.join(tmp, 'sasl-password'), randomBytes(24).toString('hex'), { mode: 0o600 });
  for (const f of fs.readdirSync(tmp)) fs.chmodSync(path.join(tmp, f), 0o600);
  fs.rmSync(files.dir, { recursive: true, force: true });
  fs.renameSync(tmp, files.dir);
  return files;
}

/**
 * Registers SCRAM-SHA-256 and SCRAM-SHA-512 credentials for `user` in the cluster metadata (KRaft keeps
 * them there, not in a file), with Kafka's own ConfigCommand over the plaintext listener. Idempotent: it
 * sets the same password again. One call per mechanism: the controller refuses two credentials of one user
 * in a single request ("A user credential cannot be altered twice in the same request").
 */
export function addScramCredentials(
  libsDir: string,
  bootstrap: string,
  user: string,
  password: string,
): void {
  for (const mechanism of SCRAM_MECHANISMS) {
    const run = spawnSync(
      'java',
      [
        '-cp',
        `${libsDir}/*`,
        'kafka.admin.ConfigCommand',
        '--bootstrap-server',
        bootstrap,
        '--alter',
        '--add-config',
        scramCredential(mechanism, password),
        '--entity-type',
        'users',
        '--entity-name',
        user,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (run.status !== 0) {
      const why =
        `${run.stdout}\n${run.stderr}`.trim().split('\n').filter(Boolean).pop() ?? `exit ${run.status}`;
      throw new StackError(`registering ${mechanism} credentials for ${user} failed (${why})`);
    }
  }
}
