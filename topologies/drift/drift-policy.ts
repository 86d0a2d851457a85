/**
 * When a drift measurement counts as a breach and when a breach asks for retraining. Everything here is
 * in event time (window bounds), never the wall clock, so replaying the same windows after a crash
 * reaches the same decisions.
 */
import { parseDuration, type Duration } from '../../operators/windows/index.js';
import { DEFAULT_PSI_EPSILON } from './psi.js';

export interface DriftPolicyOptions {
  /** PSI above this is a breach; default 0.2, the usual "significant shift" level. */
  readonly psiThreshold?: number;
  /** Live missing rate above this is a breach; default null (reported, never a breach). */
  readonly missingRateThreshold?: number | null;
  /** A window needs this many samples before it can breach (small windows are noise); default 100. */
  readonly minSamples?: number;
  /** Breaches in this many adjacent windows before a retrain is requested; default 1. */
  readonly consecutiveWindows?: number;
  /** At most one retrain request per model version per this much event time; default '1h'. */
  readonly cooldown?: Duration;
  /** Floor for empty bins in PSI; default 1e-4. */
  readonly epsilon?: number;
}

export interface DriftPolicy {
  readonly psiThreshold: number;
  readonly missingRateThreshold: number | null;
  readonly minSamples: number;
  readonly consecutiveWindows: number;
  readonly cooldownMs: number;
  readonly epsilon: number;
}

export class DriftConfigError extends Error {
  override readonly name = 'DriftConfigError';
}

function positive(name: string, value: number, hint: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new DriftConfigError(`drift ${name} must be a positive number, got ${String(value)}; ${hint}`);
  }
  return value;
}

function wholeAtLeastOne(name: string, value: number, hint: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new DriftConfigError(`drift ${name} must be a whole number >= 1, got ${String(value)}; ${hint}`);
  }
  return value;
}

export function resolveDriftPolicy(o: DriftPolicyOptions = {}): DriftPolicy {
  const missing = o.missingRateThreshold ?? null;
  if (missing !== null && !(typeof missing === 'number' && missing >= 0 && missing < 1)) {
    throw new DriftConfigError(
      `drift missingRateThreshold must be in [0, 1) or null, got ${String(missing)}; e.g. 0.05`,
    );
  }
  const epsilon = o.epsilon ?? DEFAULT_PSI_EPSILON;
  if (!(typeof epsilon === 'number' && epsilon > 0 && epsilon < 0.01)) {
    throw new DriftConfigError(`drift epsilon must be in (0, 0.01), got ${String(epsilon)}; e.g. 1e-4`);
  }
  let cooldownMs: number;
  try {
    cooldownMs = parseDuration(o.cooldown ?? '1h', 'drift cooldown');
  } catch (err) {
    throw new DriftConfigError((err as Error).message);
  }
  return {
    psiThreshold: positive('psiThreshold', o.psiThreshold ?? 0.2, 'e.g. 0.2 (significant shift)'),
    missingRateThreshold: missing,
    minSamples: wholeAtLeastOne('minSamples', o.minSamples ?? 100, 'e.g. 100'),
    consecutiveWindows: wholeAtLeastOne('consecutiveWindows', o.consecutiveWindows ?? 1, 'e.g. 1 or 3'),
    cooldownMs,
    epsilon,
  };
}
