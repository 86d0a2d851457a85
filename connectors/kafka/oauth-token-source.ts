/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for Kafka's OAUTHBEARER: the token a worker presents to the
 * brokers, fetched from the issuer's token endpoint, as the Java client's
 * `sasl.oauthbearer.token.endpoint.url` login does. kafkajs asks for a token at every authentication (each
 * new connection), so the token is cached and renewed once 80% of its lifetime has passed (the Java
 * client's `sasl.login.refresh.window.factor`); a renewal that fails keeps the current token while it is
 * still valid, so an issuer outage shorter than the remaining lifetime costs nothing.
 */
import pRetry, { AbortError } from 'p-retry';
import { Counter, Gauge } from 'prom-client';
import { sharedMetric } from '../metrics.js';

/** Renewals are lazy (at the next authentication), so failures, not an expiry drawing near, are the alarm. */
const tokenRequests = sharedMetric(
  'sluice_kafka_oauth_token_requests_total',
  () =>
    new Counter({
      name: 'sluice_kafka_oauth_token_requests_total',
      help: 'Kafka OAUTHBEARER tokens asked of the issuer, by outcome: issued, refused (the client, 4xx) or failed (after retries)',
      labelNames: ['outcome'],
    }),
);
const tokenExpiry = sharedMetric(
  'sluice_kafka_oauth_token_expiry_seconds',
  () =>
    new Gauge({
      name: 'sluice_kafka_oauth_token_expiry_seconds',
      help: 'When the newest Kafka OAUTHBEARER token from the issuer expires (Unix seconds; 0 if it did not say)',
    }),
);

export interface ClientCredentials {
  readonly tokenEndpoint: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Space-separated scopes to ask for; the issuer's default when absent. */
  readonly scope?: string;
}

export interface TokenSourceOptions {
  /** Renew after this share of the token's lifetime. */
  readonly refreshFactor?: number;
  /** Retries of a failed request (network errors, 5xx, 429), with backoff. */
  readonly retries?: number;
  readonly requestTimeoutMs?: number;
  readonly now?: () => number;
}

interface CachedToken {
  readonly value: string;
  readonly refreshAt: number;
  readonly expiresAt: number;
}

/** What the token endpoint answered instead of a token: a refusal, a server error, or something unreadable. */
export class TokenEndpointError extends Error {
  override name = 'TokenEndpointError';
  /** The issuer refused this client (4xx other than 429): its credentials or scope need fixing. */
  constructor(
    message: string,
    readonly refused = false,
  ) {
    super(message);
  }
}

/** Seconds until expiry: `expires_in` from the response, else the JWT's own `exp`, else unknown. */
function lifetimeSeconds(body: { expires_in?: unknown }, token: string, nowMs: number): number | undefined {
  const expiresIn = Number(body.expires_in);
  if (Number.isFinite(expiresIn) && expiresIn > 0) return expiresIn;
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    const exp = Number(claims.exp);
    return Number.isFinite(exp) ? exp - nowMs / 1000 : undefined;
  } catch {
    return undefined; // an opaque token: the issuer said nothing about its lifetime
  }
}

export class ClientCredentialsTokenSource {
  private cached: CachedToken | undefined;
  private fetching: Promise<CachedToken> | undefined;
  private readonly refreshFactor: number;
  private readonly retries: number;
  private readonly requestTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly credentials: ClientCredentials,
    options: TokenSourceOptions = {},
  ) {
    this.refreshFactor = options.refreshFactor ?? 0.8;
    this.retries = options.retries ?? 3;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** A valid token: the cached one until its refresh point, a new one after (one request however many ask). */
  async token(): Promise<string> {
    const now = this.now();
    const cached = this.cached;
    if (cached && now < cached.refreshAt) return cached.value;
    this.fetching ??= this.fetchAndCount().finally(() => (this.fetching = undefined));
    try {
      this.cached = await this.fetching;
      return this.cached.value;
    } catch (err) {
      if (cached && this.now() < cached.expiresAt) return cached.value; // renewal failed; still valid
      throw err;
    }
  }

  private async fetchAndCount(): Promise<CachedToken> {
    try {
      const token = await this.fetchToken();
      tokenRequests.inc({ outcome: 'issued' });
      tokenExpiry.set(token.expiresAt > token.refreshAt ? token.expiresAt / 1000 : 0);
      return token;
    } catch (err) {
      tokenRequests.inc({ outcome: err instanceof TokenEndpointError && err.refused ? 'refused' : 'failed' });
      throw err;
    }
  }

  private fetchToken(): Promise<CachedToken> {
    return pRetry(() => this.requestToken(), {
      retries: this.retries,
      minTimeout: 200,
      maxTimeout: 2000,
    });
  }

  private async requestToken(): Promise<CachedToken> {
    const { tokenEndpoint, clientId, clientSecret, scope } = this.credentials;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scope) form.set('scope', scope);
    // RFC 6749 §2.3.1: the credentials form-encoded, then HTTP Basic.
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
      'base64',
    );
    const requestedAt = this.now();
    const response = await fetch(tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form,
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    const text = await response.text();
    const where = `OAuth token endpoint ${tokenEndpoint.origin}${tokenEndpoint.pathname}`;
    if (!response.ok) {
      // A server error or throttling may pass; a refusal of the client (4xx) will not.
      const passes = response.status >= 500 || response.status === 429;
      const failure = new TokenEndpointError(
        `${where} refused client '${clientId}' (HTTP ${response.status}): ${describeOAuthError(text)}`,
        !passes,
      );
      if (passes) throw failure;
      throw new AbortError(failure);
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new AbortError(new TokenEndpointError(`${where} answered with something that is not JSON`));
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') {
      throw new AbortError(new TokenEndpointError(`${where} answered without an access_token`));
    }
    const lifetime = lifetimeSeconds(body, body.access_token, requestedAt);
    // Unknown lifetime: used for this authentication only, asked for again at the next.
    const lifetimeMs = lifetime === undefined ? 0 : lifetime * 1000;
    return {
      value: body.access_token,
      refreshAt: requestedAt + lifetimeMs * this.refreshFactor,
      expiresAt: requestedAt + lifetimeMs,
    };
  }
}

/** RFC 6749 §5.2's `error` and `error_description`, or the start of whatever came back. */
function describeOAuthError(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') {
      return typeof body.error_description === 'string'
        ? `${body.error}: ${body.error_description}`
        : body.error;
    }
  } catch {
    // not JSON
  }
  return text.slice(0, 200) || '(empty body)';
}
