/** A Schema Registry client (the official Confluent one) for a URL, with optional basic auth. */
import { SchemaRegistryClient, type ClientConfig } from '@confluentinc/schemaregistry';
import { ConfigError } from '../config/endpoints.js';

export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
}

export interface RegistryClientOptions {
  /** Retries of network errors and 408/429/5xx inside the client (default 3; its backoff is 1 s to 20 s). */
  readonly maxRetries?: number;
  readonly retriesWaitMs?: number;
  readonly retriesMaxWaitMs?: number;
  /** Per-request timeout (default 10 s), so an unreachable registry fails instead of hanging. */
  readonly timeoutMs?: number;
}

export type RegistryClient = SchemaRegistryClient;

export function createRegistryClient(
  url: string,
  auth?: RegistryAuth,
  options: RegistryClientOptions = {},
): RegistryClient {
  const config: ClientConfig = {
    baseURLs: [url],
    createAxiosDefaults: { timeout: options.timeoutMs ?? 10_000 },
    ...(auth && {
      basicAuthCredentials: { credentialsSource: 'USER_INFO', userInfo: `${auth.username}:${auth.password}` },
    }),
    ...(options.maxRetries !== undefined && { maxRetries: options.maxRetries }),
    ...(options.retriesWaitMs !== undefined && { retriesWaitMs: options.retriesWaitMs }),
    ...(options.retriesMaxWaitMs !== undefined && { retriesMaxWaitMs: options.retriesMaxWaitMs }),
  };
  return new SchemaRegistryClient(config);
}

/** Basic auth from SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO=user:password (Confluent's basic.auth.user.info). */
export function registryAuthFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryAuth | undefined {
  const userInfo = env.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO;
  if (userInfo === undefined || userInfo === '') return undefined;
  const colon = userInfo.indexOf(':');
  if (colon <= 0) {
    throw new ConfigError('SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO must be user:password, e.g. alice:s3cret');
  }
  return { username: userInfo.slice(0, colon), password: userInfo.slice(colon + 1) };
}
