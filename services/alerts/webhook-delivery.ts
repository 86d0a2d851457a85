/**
 * One alert to one receiver: POST of the alert as JSON, signed afresh on every attempt (the timestamp is
 * part of the signature). Retried with backoff on network errors, timeouts, 408, 429 and 5xx; any other 4xx
 * means the receiver refuses this alert, so retrying would not help.
 */
import pRetry, { AbortError } from 'p-retry';
import type { AlertRecord } from '../../schemas/index.js';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

export const ALERT_ID_HEADER = 'sluice-alert-id';

export interface DeliveryOptions {
  readonly secrets: readonly string[];
  readonly timeoutMs?: number;
  /** Attempts after the first; with the default backoff about two minutes in all. */
  readonly retries?: number;
  readonly minRetryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  readonly onRetry?: (info: { url: string; attempt: number; error: string }) => void;
}

/** The receiver refused the alert (or stayed unreachable through every retry). */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  constructor(
    readonly code: 'WEBHOOK_REFUSED' | 'WEBHOOK_UNREACHABLE',
    message: string,
  ) {
    super(message);
  }
}

const retriableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

export async function deliverAlert(alert: AlertRecord, url: URL, options: DeliveryOptions): Promise<void> {
  const body = JSON.stringify(alert);
  const attempt = async () => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'sluice-alerts',
          [SIGNATURE_HEADER]: signWebhook(options.secrets, body),
          // Receivers deduplicate on it: delivery is at-least-once.
          [ALERT_ID_HEADER]: alert.alertId,
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new Error(`POST ${url.origin}${url.pathname} failed: ${(err as Error).message}`, { cause: err });
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.ok) return;
    const message = `POST ${url.origin}${url.pathname} answered ${response.status} ${response.statusText}`;
    if (retriableStatus(response.status)) throw new Error(message);
    throw new AbortError(new WebhookDeliveryError('WEBHOOK_REFUSED', message));
  };
  try {
    await pRetry(attempt, {
      retries: options.retries ?? 8,
      minTimeout: options.minRetryDelayMs ?? 500,
      maxTimeout: options.maxRetryDelayMs ?? 30_000,
      onFailedAttempt: ({ error, attemptNumber }) =>
        options.onRetry?.({ url: url.href, attempt: attemptNumber, error: error.message }),
    });
  } catch (err) {
    if (err instanceof WebhookDeliveryError) throw err;
    throw new WebhookDeliveryError(
      'WEBHOOK_UNREACHABLE',
      `gave up after ${(options.retries ?? 8) + 1} attempts: ${(err as Error).message}`,
    );
  }
}
