/**
 * The local stack broker's secured listeners (deploy/stack/kafka.ts) as a client would be configured for
 * them: the environment an operator would set, so tests go through loadKafkaSecurity like a deployment.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureKafkaLibs, mutualTlsPort, saslSslPort } from '../../deploy/stack/kafka.js';
import {
  addScramCredentials,
  LOCAL_SASL_USER,
  localKafkaTls,
  readLocalSaslPassword,
} from '../../deploy/stack/kafka-tls.js';
import { stackPaths } from '../../deploy/stack/paths.js';
import { hostPortOfBroker } from '../../deploy/stack/probe.js';
import { endpoints } from './kafka.js';

const paths = stackPaths();
const { host, port } = hostPortOfBroker(endpoints.kafkaBrokers[0] as string);
export const localTls = localKafkaTls(path.join(paths.stateDir, 'kafka'));
export const saslSslBroker = `${host}:${saslSslPort(port)}`;
export const mutualTlsBroker = `${host}:${mutualTlsPort(port)}`;
/** Why these tests cannot run here, if they cannot: the secured listeners exist only on the stack's broker. */
export const noLocalSecuredBroker = endpoints.external.kafka
  ? 'KAFKA_BROKERS names an external broker; the secured listeners belong to the stack broker'
  : undefined;

export function saslSslEnv(mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'): NodeJS.ProcessEnv {
  return {
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: LOCAL_SASL_USER,
    KAFKA_SASL_PASSWORD_FILE: localTls.saslPasswordFile,
    KAFKA_SSL_CA_FILE: localTls.caFile,
  };
}

export const mutualTlsEnv = (): NodeJS.ProcessEnv => ({
  KAFKA_SECURITY_PROTOCOL: 'SSL',
  KAFKA_SSL_CA_FILE: localTls.caFile,
  KAFKA_SSL_CERT_FILE: localTls.clientCertFile,
  KAFKA_SSL_KEY_FILE: localTls.clientKeyFile,
});

/**
 * SCRAM users live in the cluster metadata. `stack up` adds the local user when it formats a new cluster;
 * a state directory formatted before that lacks it, so the tests register it again (harmless if present).
 */
export function ensureLocalScramUser(): void {
  const password = readLocalSaslPassword(localTls);
  const libs = ensureKafkaLibs(paths.cacheDir, () => undefined);
  addScramCredentials(libs, endpoints.kafkaBrokers[0] as string, LOCAL_SASL_USER, password);
}

/**
 * An unsigned JWT ("alg": "none") as Kafka's unsecured OAUTHBEARER validator takes it, expiring `expiresInMs`
 * from now (negative: already expired).
 */
export function unsecuredToken(subject: string, expiresInMs: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Date.now();
  return `${part({ alg: 'none' })}.${part({ sub: subject, iat: Math.floor(now / 1000) - 60, exp: Math.floor((now + expiresInMs) / 1000) })}.`;
}

/** The environment of an OAUTHBEARER client whose token file holds `token`; returns the file to renew it. */
export function oauthBearerEnv(token: string): { env: NodeJS.ProcessEnv; tokenFile: string } {
  const tokenFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'sluice-oauth-')), 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  return {
    tokenFile,
    env: {
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
      KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: tokenFile,
      KAFKA_SSL_CA_FILE: localTls.caFile,
    },
  };
}

/**
 * An OAuth issuer's token endpoint on loopback for the client credentials grant: it checks the client's
 * HTTP Basic credentials and issues unsigned tokens for one hour, which the stack broker's unsecured
 * validator accepts.
 */
export async function tokenIssuer(clientId: string, clientSecret: string) {
  let issued = 0;
  let lastScope: string | null = null;
  const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials') {
        res.writeHead(401).end(JSON.stringify({ error: 'invalid_client' }));
        return;
      }
      issued += 1;
      lastScope = form.get('scope');
      res.end(
        JSON.stringify({
          access_token: unsecuredToken(clientId, 3_600_000),
          token_type: 'Bearer',
          expires_in: 3600,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    issued: () => issued,
    lastScope: () => lastScope,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The environment of an OAUTHBEARER client that asks `tokenEndpoint` for its tokens. */
export function clientCredentialsEnv(
  tokenEndpoint: string,
  clientId: string,
  clientSecret: string,
): NodeJS.ProcessEnv {
  const secretFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'sluice-oauth-')), 'client-secret');
  writeFileSync(secretFile, `${clientSecret}\n`, { mode: 0o600 });
  return {
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
    KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL: tokenEndpoint,
    KAFKA_SASL_OAUTHBEARER_CLIENT_ID: clientId,
    KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE: secretFile,
    KAFKA_SSL_CA_FILE: localTls.caFile,
  };
}
