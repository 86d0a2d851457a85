/**
 * Picks the first execution provider that can both open the model and run a probe batch. A provider that is
 * merely listed (e.g. cuda without its libraries, or a GPU that fails on first run) is skipped with the reason
 * recorded, so operators can see why a host scores on cpu.
 */
import type { SessionFactory } from './session-factory.js';

export interface ProviderAttempt {
  readonly provider: string;
  readonly ok: boolean;
  readonly reason: string;
}

export interface ProviderSelection<S> {
  readonly provider: string;
  readonly session: S;
  readonly attempts: readonly ProviderAttempt[];
}

export interface SelectExecutionProviderOptions<S> {
  readonly preferred: readonly string[];
  readonly modelBytes: Uint8Array;
  /** Runs a small batch through the session; throws when the provider cannot really score. */
  readonly probe: (session: S, provider: string) => Promise<void>;
  readonly sessionFactory: SessionFactory<S>;
  /** Releases a session whose probe failed. */
  readonly release?: (session: S) => Promise<void>;
  /** Errors that are about the model, not the provider: stop trying other providers and rethrow. */
  readonly isModelError?: (err: unknown) => boolean;
}

export class NoExecutionProviderError extends Error {
  override readonly name = 'NoExecutionProviderError';
  constructor(
    readonly attempts: readonly ProviderAttempt[],
    readonly lastError: unknown,
  ) {
    super(
      `no execution provider could run the model: ${attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ')}`,
      { cause: lastError },
    );
  }
}

const firstLine = (err: unknown) =>
  String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .trim();

export async function selectExecutionProvider<S>(
  options: SelectExecutionProviderOptions<S>,
): Promise<ProviderSelection<S>> {
  if (options.preferred.length === 0) {
    throw new Error("preferred execution providers is empty; pass e.g. ['cuda', 'cpu']");
  }
  const attempts: ProviderAttempt[] = [];
  let lastError: unknown;
  for (const provider of options.preferred) {
    let session: S;
    try {
      session = await options.sessionFactory(options.modelBytes, provider);
    } catch (err) {
      attempts.push({ provider, ok: false, reason: `session creation failed: ${firstLine(err)}` });
      lastError = err;
      continue;
    }
    try {
      await options.probe(session, provider);
    } catch (err) {
      await options.release?.(session).catch(() => undefined);
      if (options.isModelError?.(err)) throw err;
      attempts.push({ provider, ok: false, reason: `probe run failed: ${firstLine(err)}` });
      lastError = err;
      continue;
    }
    attempts.push({ provider, ok: true, reason: 'probe run succeeded' });
    return { provider, session, attempts };
  }
  throw new NoExecutionProviderError(attempts, lastError);
}
