/**
 * Polls the experiment store for a newer version of the experiment a scoring worker serves and hands it to
 * the serving side, so `sluice experiments set` / PUT /api/experiments/NAME reach running workers without a
 * restart. Polling, not a notification: the store is plain files that the control service and the CLI
 * write, and a version is immutable once written, so "is there a higher number?" is all a worker needs.
 * A poll that fails (store unreadable, bad file) is reported and tried again next interval. A version the
 * worker cannot serve is refused and tried again with exponential backoff (what it needs, such as a model
 * version in the registry, may still arrive), until it is served or a later version supersedes it.
 */
import type { ExperimentConfig } from '../../connectors/experiments/index.js';

export interface ExperimentSource {
  versions(name: string): Promise<number[]>;
  get(name: string, version?: number): Promise<ExperimentConfig>;
}

export interface ExperimentTarget {
  readonly experiment: ExperimentConfig;
  /** Loads, verifies and switches to `next`; throws to refuse it. */
  switchTo(next: ExperimentConfig): Promise<unknown>;
}

export interface ExperimentWatcherOptions {
  readonly store: ExperimentSource;
  readonly target: ExperimentTarget;
  /** Poll interval; default 5000 ms. */
  readonly intervalMs?: number;
  /** Longest wait before a refused version is tried again; default 5 minutes. */
  readonly maxRetryMs?: number;
  readonly now?: () => number;
  readonly onSwitched?: (next: ExperimentConfig, result: unknown) => void;
  readonly onRefused?: (next: ExperimentConfig, err: Error, retry: RefusalRetry) => void;
  readonly onPollError?: (err: Error) => void;
}

/** How often a version was refused, and when it is tried again. */
export interface RefusalRetry {
  readonly attempt: number;
  readonly retryInMs: number;
}

export type PollOutcome = 'unchanged' | 'switched' | 'refused';

export const DEFAULT_EXPERIMENT_POLL_MS = 5000;

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

export class ExperimentWatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly refused = new Map<number, { attempts: number; retryAt: number }>();
  readonly intervalMs: number;
  private readonly maxRetryMs: number;
  private readonly now: () => number;

  constructor(private readonly o: ExperimentWatcherOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_EXPERIMENT_POLL_MS;
    if (!(Number.isFinite(this.intervalMs) && this.intervalMs > 0)) {
      throw new Error(`experiment poll interval must be a number of ms > 0, got ${o.intervalMs}`);
    }
    this.maxRetryMs = Math.max(this.intervalMs, o.maxRetryMs ?? 300_000);
    this.now = o.now ?? Date.now;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * One poll, serialised with the timer's (so a version is never switched to twice); errors are reported
   * through onPollError and returned as 'unchanged', never thrown.
   */
  poll(): Promise<PollOutcome> {
    const run = () =>
      this.pollNow().catch((err: unknown) => (this.o.onPollError?.(asError(err)), 'unchanged' as const));
    const result = this.running.then(run, run);
    this.running = result;
    return result;
  }

  private async pollNow(): Promise<PollOutcome> {
    const current = this.o.target.experiment;
    let next: ExperimentConfig | undefined;
    try {
      const latest = (await this.o.store.versions(current.name)).at(-1);
      if (latest === undefined || latest <= current.version) return 'unchanged';
      if (this.now() < (this.refused.get(latest)?.retryAt ?? -Infinity)) return 'unchanged';
      next = await this.o.store.get(current.name, latest);
    } catch (err) {
      this.o.onPollError?.(asError(err));
      return 'unchanged';
    }
    if (this.stopped) return 'unchanged';
    try {
      const result = await this.o.target.switchTo(next);
      this.refused.clear();
      this.o.onSwitched?.(next, result);
      return 'switched';
    } catch (err) {
      const attempts = (this.refused.get(next.version)?.attempts ?? 0) + 1;
      const retryInMs = Math.min(this.maxRetryMs, this.intervalMs * 2 ** attempts);
      this.refused.set(next.version, { attempts, retryAt: this.now() + retryInMs });
      this.o.onRefused?.(next, asError(err), { attempt: attempts, retryInMs });
      return 'refused';
    }
  }
}
