/**
 * How every Sluice process authenticates to Kafka, from the environment, in Kafka's own terms so an
 * operator can copy them from the cluster's client settings:
 *
 *   KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default) | SSL | SASL_PLAINTEXT | SASL_SSL
 *   KAFKA_SSL_CA_FILE         PEM CA bundle the brokers' certificates chain to (default: the system's)
 *   KAFKA_SSL_CERT_FILE       PEM client certificate, with KAFKA_SSL_KEY_FILE (mutual TLS)
 *   KAFKA_SSL_KEY_FILE        PEM private key (KAFKA_SSL_KEY_PASSWORD_FILE if it is encrypted)
 *   KAFKA_SASL_MECHANISM      PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 | OAUTHBEARER
 *   KAFKA_SASL_USERNAME       and KAFKA_SASL_PASSWORD_FILE (or KAFKA_SASL_PASSWORD), for PLAIN and SCRAM
 *   KAFKA_SASL_OAUTHBEARER_TOKEN_FILE  for OAUTHBEARER: a file holding the current token, kept fresh by
 *                             whatever issues it (a sidecar, a projected service-account token); it is read
 *                             again at every authentication, so a renewed token is picked up by the next
 *                             connection without a restart
 *   KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL  for OAUTHBEARER instead of a token file: the issuer's token
 *                             endpoint (https; http only on loopback), asked for tokens with the OAuth client
 *                             credentials grant, with KAFKA_SASL_OAUTHBEARER_CLIENT_ID and
 *                             KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE (or _CLIENT_SECRET), and
 *                             KAFKA_SASL_OAUTHBEARER_SCOPE if the issuer wants one
 *
 * Secrets come only from files or the environment. Everything is checked when a client is built, so a
 * typo fails the process at start with the variable to fix instead of as an opaque broker disconnect.
 */
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { ClientCredentialsTokenSource } from '../kafka/oauth-token-source.js';
import { ConfigError, parseUrl } from './endpoints.js';
import { passwordFromEnv, readSecretFile } from './secret-file.js';

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

const SASL_MECHANISMS = {
  PLAIN: 'plain',
  'SCRAM-SHA-256': 'scram-sha-256',
  'SCRAM-SHA-512': 'scram-sha-512',
  OAUTHBEARER: 'oauthbearer',
} as const;

const PASSWORD_VARS = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'];

const SSL_VARS = [
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
  'KAFKA_SSL_KEY_PASSWORD_FILE',
];
const CLIENT_CREDENTIALS_VARS = [
  'KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL',
  'KAFKA_SASL_OAUTHBEARER_CLIENT_ID',
  'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET',
  'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE',
  'KAFKA_SASL_OAUTHBEARER_SCOPE',
];
const OAUTHBEARER_VARS = ['KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', ...CLIENT_CREDENTIALS_VARS];
const SASL_VARS = [
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
  ...OAUTHBEARER_VARS,
];

/** What kafkajs takes: `ssl` and `sasl` of its KafkaConfig. */
export interface KafkaSecurity {
  readonly protocol: SecurityProtocol;
  readonly ssl?: ConnectionOptions;
  readonly sasl?: SASLOptions;
}

/**
 * Names the variables set that `setting` would ignore: silently ignoring them hides a wrong setting.
 * `ignores` says why, given the pronoun for the variables ('it' or 'them').
 */
function refuseIgnored(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
  setting: string,
  fix: string,
  ignores: (them: string) => string = (them) => `does not use ${them}`,
) {
  const set = names.filter((n) => env[n] !== undefined && env[n] !== '');
  if (set.length === 0) return;
  const one = set.length === 1;
  throw new ConfigError(
    `${set.join(', ')} ${one ? 'is' : 'are'} set but ${setting} ${ignores(one ? 'it' : 'them')}; ${fix}`,
  );
}

function loadSsl(env: NodeJS.ProcessEnv): ConnectionOptions {
  const ssl: { ca?: string; cert?: string; key?: string; passphrase?: string } = {};
  if (env.KAFKA_SSL_CA_FILE) ssl.ca = readSecretFile('KAFKA_SSL_CA_FILE', env.KAFKA_SSL_CA_FILE);
  const { KAFKA_SSL_CERT_FILE: certFile, KAFKA_SSL_KEY_FILE: keyFile } = env;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError(
      'mutual TLS needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE (PEM); set both, or neither',
    );
  }
  if (certFile && keyFile) {
    ssl.cert = readSecretFile('KAFKA_SSL_CERT_FILE', certFile);
    ssl.key = readSecretFile('KAFKA_SSL_KEY_FILE', keyFile);
    if (env.KAFKA_SSL_KEY_PASSWORD_FILE) {
      ssl.passphrase = readSecretFile('KAFKA_SSL_KEY_PASSWORD_FILE', env.KAFKA_SSL_KEY_PASSWORD_FILE).trim();
    }
  } else if (env.KAFKA_SSL_KEY_PASSWORD_FILE) {
    throw new ConfigError(
      'KAFKA_SSL_KEY_PASSWORD_FILE is set without KAFKA_SSL_KEY_FILE; set both, or neither',
    );
  }
  // Node verifies the broker's certificate and host name by default; there is deliberately no switch here.
  return ssl;
}

/** The token in the file, without the trailing newline a shell or a secret mount may add. */
function readToken(file: string): string {
  const token = readSecretFile('KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', file).trim();
  if (token === '') {
    throw new ConfigError(
      `KAFKA_SASL_OAUTHBEARER_TOKEN_FILE=${file} is empty; it must hold the current OAuth bearer token`,
    );
  }
  return token;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The token endpoint's URL; the client secret crosses it, so plain http is refused off loopback. */
function tokenEndpoint(value: string): URL {
  parseUrl('KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL', value, ['https:', 'http:']);
  const url = new URL(value); // as given: an issuer may tell a trailing slash apart
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new ConfigError(
      `KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL=${value} must be https (the client secret is sent to it); plain http is allowed on loopback only`,
    );
  }
  return url;
}

function loadClientCredentials(env: NodeJS.ProcessEnv, endpoint: string): SASLOptions {
  const clientId = env.KAFKA_SASL_OAUTHBEARER_CLIENT_ID;
  const clientSecret = passwordFromEnv(env, 'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET');
  if (!clientId || !clientSecret) {
    throw new ConfigError(
      'KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL needs KAFKA_SASL_OAUTHBEARER_CLIENT_ID and KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE (a file holding the secret) or KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET',
    );
  }
  const source = new ClientCredentialsTokenSource({
    tokenEndpoint: tokenEndpoint(endpoint),
    clientId,
    clientSecret,
    ...(env.KAFKA_SASL_OAUTHBEARER_SCOPE ? { scope: env.KAFKA_SASL_OAUTHBEARER_SCOPE } : {}),
  });
  return { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await source.token() }) };
}

function loadOAuthBearer(env: NodeJS.ProcessEnv): SASLOptions {
  refuseIgnored(
    env,
    PASSWORD_VARS,
    'KAFKA_SASL_MECHANISM=OAUTHBEARER',
    'unset them, or pick PLAIN or SCRAM',
    () =>
      'authenticates with a token only (KAFKA_SASL_OAUTHBEARER_TOKEN_FILE or KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL)',
  );
  const file = env.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE;
  const endpoint = env.KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL;
  if (file && endpoint) {
    throw new ConfigError(
      'set KAFKA_SASL_OAUTHBEARER_TOKEN_FILE (a token kept fresh by something else) or KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL (Sluice asks the issuer), not both',
    );
  }
  if (endpoint) return loadClientCredentials(env, endpoint);
  if (!file) {
    throw new ConfigError(
      'KAFKA_SASL_MECHANISM=OAUTHBEARER needs KAFKA_SASL_OAUTHBEARER_TOKEN_FILE, a file holding the current token, or KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL with a client id and secret',
    );
  }
  refuseIgnored(
    env,
    CLIENT_CREDENTIALS_VARS,
    'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
    'unset them, or set KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL instead of the token file',
    (them) => `is read as the token, so nothing uses ${them}`,
  );
  readToken(file); // fails the start when the file is missing or empty, not the first connection
  return { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: readToken(file) }) };
}

function loadSasl(env: NodeJS.ProcessEnv): SASLOptions {
  const name = env.KAFKA_SASL_MECHANISM;
  const mechanism = name === undefined ? undefined : SASL_MECHANISMS[name as keyof typeof SASL_MECHANISMS];
  if (mechanism === undefined) {
    throw new ConfigError(
      `KAFKA_SASL_MECHANISM=${name ?? '(unset)'} is not supported; set one of ${Object.keys(SASL_MECHANISMS).join(', ')}`,
    );
  }
  if (mechanism === 'oauthbearer') return loadOAuthBearer(env);
  refuseIgnored(
    env,
    OAUTHBEARER_VARS,
    `KAFKA_SASL_MECHANISM=${name}`,
    'set KAFKA_SASL_MECHANISM=OAUTHBEARER, or unset it',
  );
  const username = env.KAFKA_SASL_USERNAME;
  if (!username) throw new ConfigError(`KAFKA_SASL_MECHANISM=${name} needs KAFKA_SASL_USERNAME`);
  const password = passwordFromEnv(env, 'KAFKA_SASL_PASSWORD');
  if (!password) {
    throw new ConfigError(
      `KAFKA_SASL_MECHANISM=${name} needs a password: KAFKA_SASL_PASSWORD_FILE (a file holding it) or KAFKA_SASL_PASSWORD`,
    );
  }
  return { mechanism, username, password };
}

/** The part of kafkajs' KafkaConfig these settings fill in (nothing for PLAINTEXT). */
export function kafkaSecurityConfig({ ssl, sasl }: KafkaSecurity): {
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
} {
  return { ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

export function loadKafkaSecurity(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const protocol = (env.KAFKA_SECURITY_PROTOCOL || 'PLAINTEXT').toUpperCase();
  if (!(SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ConfigError(
      `KAFKA_SECURITY_PROTOCOL=${env.KAFKA_SECURITY_PROTOCOL} is not one of ${SECURITY_PROTOCOLS.join(', ')}`,
    );
  }
  const useSsl = protocol === 'SSL' || protocol === 'SASL_SSL';
  const useSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const ignoredBy = `KAFKA_SECURITY_PROTOCOL=${protocol}`;
  const wants = (protocols: string) => `set KAFKA_SECURITY_PROTOCOL=${protocols}, or unset them`;
  if (!useSsl) refuseIgnored(env, SSL_VARS, ignoredBy, wants(useSasl ? 'SASL_SSL' : 'SSL or SASL_SSL'));
  if (!useSasl) refuseIgnored(env, SASL_VARS, ignoredBy, wants('SASL_SSL'));
  return {
    protocol: protocol as SecurityProtocol,
    ...(useSsl ? { ssl: loadSsl(env) } : {}),
    ...(useSasl ? { sasl: loadSasl(env) } : {}),
  };
}
