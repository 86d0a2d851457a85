/**
 * Signed webhooks, in the scheme Stripe and GitHub popularised: the header
 * `Sluice-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` lets a receiver check the
 * body came from us (HMAC with a shared secret) and is recent (the timestamp is signed too, so an old
 * delivery cannot be replayed later). Several v1 entries may appear while a secret is being rotated.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'sluice-signature';
/** Receivers should refuse deliveries older than this (seconds). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The header value for `body`, signed with every secret given (the current one first). */
export function signWebhook(secrets: readonly string[], body: string, nowMs = Date.now()): string {
  if (secrets.length === 0) throw new Error('signWebhook needs at least one secret');
  const t = Math.floor(nowMs / 1000);
  return [`t=${t}`, ...secrets.map((s) => `v1=${hmacHex(s, t, body)}`)].join(',');
}

export type VerifyResult =
  { readonly ok: true; readonly timestamp: number } | { readonly ok: false; readonly reason: string };

export interface VerifyOptions {
  readonly toleranceSeconds?: number;
  readonly nowMs?: number;
}

/**
 * Checks a received header against the raw body (exactly the bytes received, before any JSON parsing) and
 * the receiver's secret(s). Constant-time comparison, so timing does not leak how much of a guess matched.
 */
export function verifyWebhook(
  secrets: readonly string[],
  header: string | undefined,
  body: string,
  options: VerifyOptions = {},
): VerifyResult {
  if (!header) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.split('=', 2).map((x) => x.trim());
    if (key === 't' && value && /^\d+$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined) return { ok: false, reason: 'signature header has no timestamp t=' };
  if (signatures.length === 0) return { ok: false, reason: 'signature header has no v1= signature' };
  const age = Math.floor((options.nowMs ?? Date.now()) / 1000) - timestamp;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(age) > tolerance) {
    return { ok: false, reason: `timestamp is ${age} s off, more than the ${tolerance} s tolerance` };
  }
  for (const secret of secrets) {
    const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
    for (const candidate of signatures) {
      if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) return { ok: true, timestamp };
    }
  }
  return { ok: false, reason: 'no signature matches the body with any known secret' };
}
