/**
 * Where alerts go and how they are signed, from the environment only (secrets never on the command line):
 *   SLUICE_WEBHOOK_URLS            comma-separated https:// (or http://127.0.0.1 for local use) receivers
 *   SLUICE_WEBHOOK_SECRET_FILE     file holding the signing secret(s), one per line, current first
 *   SLUICE_WEBHOOK_SECRET          the same, inline (comma-separated); the file wins when both are set
 *   SLUICE_WEBHOOK_MIN_SEVERITY    INFO | WARNING | CRITICAL (default WARNING)
 */
import { readFileSync } from 'node:fs';
import { AlertSeveritySymbols, type AlertSeverity } from '../../schemas/index.js';

/** Lowest first: the Alert schema lists its severities in rising order. */
export const SEVERITIES: readonly AlertSeverity[] = AlertSeveritySymbols;
/** Shorter secrets are guessable; 32 hex characters = 128 bits. */
const MIN_SECRET_LENGTH = 32;

export interface WebhookConfig {
  readonly urls: readonly URL[];
  readonly secrets: readonly string[];
  readonly minSeverity: AlertSeverity;
}

export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError';
}

const HOW_TO_SECRET =
  'create one with `openssl rand -hex 32 > webhook.secret` and set SLUICE_WEBHOOK_SECRET_FILE=webhook.secret';

function readSecrets(env: NodeJS.ProcessEnv): string[] {
  let raw: string[];
  if (env.SLUICE_WEBHOOK_SECRET_FILE) {
    try {
      raw = readFileSync(env.SLUICE_WEBHOOK_SECRET_FILE, 'utf8').split('\n');
    } catch (err) {
      throw new WebhookConfigError(
        `SLUICE_WEBHOOK_SECRET_FILE=${env.SLUICE_WEBHOOK_SECRET_FILE} cannot be read ` +
          `(${(err as Error).message}); ${HOW_TO_SECRET}`,
      );
    }
  } else raw = (env.SLUICE_WEBHOOK_SECRET ?? '').split(',');
  const secrets = raw.map((s) => s.trim()).filter((s) => s.length > 0);
  if (secrets.length === 0) {
    throw new WebhookConfigError(`webhooks are signed, but no secret is configured; ${HOW_TO_SECRET}`);
  }
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) {
      throw new WebhookConfigError(
        `a webhook secret is ${s.length} characters; at least ${MIN_SECRET_LENGTH} are needed (${HOW_TO_SECRET})`,
      );
    }
  }
  return secrets;
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookConfigError(`SLUICE_WEBHOOK_URLS has "${raw}", which is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new WebhookConfigError(
      `webhook ${url.origin} must use https:// (plain http is allowed only to a loopback address)`,
    );
  }
  return url;
}

export function loadWebhookConfig(env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const urls = (env.SLUICE_WEBHOOK_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
    .map(parseUrl);
  if (urls.length === 0) {
    throw new WebhookConfigError(
      'SLUICE_WEBHOOK_URLS is empty; set it to the receiver(s), e.g. SLUICE_WEBHOOK_URLS=https://hooks.example.com/sluice',
    );
  }
  const minSeverity = (env.SLUICE_WEBHOOK_MIN_SEVERITY ?? 'WARNING').toUpperCase() as AlertSeverity;
  if (!SEVERITIES.includes(minSeverity)) {
    throw new WebhookConfigError(
      `SLUICE_WEBHOOK_MIN_SEVERITY=${env.SLUICE_WEBHOOK_MIN_SEVERITY} is not one of ${SEVERITIES.join(', ')}`,
    );
  }
  return { urls, secrets: readSecrets(env), minSeverity };
}
