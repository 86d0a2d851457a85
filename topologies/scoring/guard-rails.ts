/**
 * Guard rails for served variants: every interval, each guarded variant's rolling error rate and p99
 * inference latency are compared with its limits. A variant over a limit for N consecutive evaluations
 * (with at least minSamples rows) triggers one action: the registry rolls its model back to the previous
 * champion, an audit record is appended and an alert is produced. The variant's window then starts
 * afresh and a cool-down stops a second rollback before the restored model has had a chance.
 */
import type { ExperimentConfig, ModelRef } from '../../connectors/experiments/index.js';
import type { SlotHealth, VariantMonitor } from '../../operators/score/variant-monitor.js';
import type { AlertSink } from './alerts.js';
import type { AuditSink } from './audit.js';

export interface GuardRailConfig {
  /** Served variant to guard; omitted = every served variant. */
  readonly variant?: string;
  readonly maxErrorRate?: number;
  readonly maxP99LatencyMs?: number;
  /** Fewer rows than this in the window never count as a breach (default 200). */
  readonly minSamples?: number;
  /** Consecutive breached evaluations before acting (default 3). */
  readonly consecutive?: number;
}

export interface GuardAction {
  readonly variant: string;
  readonly model: string;
  readonly outcome: 'rolled-back' | 'rollback-failed' | 'alert-only';
  readonly restoredVersion?: string;
  readonly reason: string;
  readonly health: SlotHealth;
}

export interface GuardRailsOptions {
  readonly experiment: ExperimentConfig;
  readonly guards: readonly GuardRailConfig[];
  readonly monitor: VariantMonitor;
  readonly slots: {
    slotRef(slot: string): ModelRef | undefined;
    refresh(model?: string): Promise<unknown>;
  };
  readonly registry: { rollback(name: string, reason?: string): Promise<{ version: string }> };
  readonly audit: AuditSink;
  readonly alerts: AlertSink;
  readonly intervalMs?: number;
  readonly cooldownMs?: number;
  readonly onAction?: (action: GuardAction) => void;
  readonly onError?: (err: Error) => void;
  readonly now?: () => number;
}

export class GuardRailConfigError extends Error {
  override readonly name = 'GuardRailConfigError';
}

interface Armed {
  readonly variant: string;
  readonly guard: Required<Omit<GuardRailConfig, 'variant' | 'maxErrorRate' | 'maxP99LatencyMs'>> &
    GuardRailConfig;
  streak: number;
  coolUntil: number;
}

export class GuardRails {
  private readonly armed: Armed[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly o: GuardRailsOptions) {
    this.now = o.now ?? Date.now;
    const variants = o.experiment.variants.map((v) => v.name);
    for (const g of o.guards) {
      if (g.maxErrorRate === undefined && g.maxP99LatencyMs === undefined) {
        throw new GuardRailConfigError('a guard rail needs maxErrorRate and/or maxP99LatencyMs');
      }
      if (g.maxErrorRate !== undefined && !(g.maxErrorRate >= 0 && g.maxErrorRate <= 1)) {
        throw new GuardRailConfigError(`maxErrorRate must be in [0, 1], got ${g.maxErrorRate}`);
      }
      if (g.maxP99LatencyMs !== undefined && !(g.maxP99LatencyMs >= 0)) {
        throw new GuardRailConfigError(`maxP99LatencyMs must be >= 0, got ${g.maxP99LatencyMs}`);
      }
      const consecutive = g.consecutive ?? 3;
      if (!Number.isInteger(consecutive) || consecutive < 1) {
        throw new GuardRailConfigError(`consecutive must be an integer >= 1, got ${g.consecutive}`);
      }
      if (g.variant !== undefined && !variants.includes(g.variant)) {
        throw new GuardRailConfigError(
          `guard rail names variant ${g.variant}, but experiment ${o.experiment.name} serves ${variants.join(', ')}`,
        );
      }
      for (const variant of g.variant !== undefined ? [g.variant] : variants) {
        this.armed.push({
          variant,
          guard: { ...g, minSamples: g.minSamples ?? 200, consecutive },
          streak: 0,
          coolUntil: 0,
        });
      }
    }
  }

  /** The variants being guarded, in the order their guards were given. */
  get guardedVariants(): string[] {
    return [...new Set(this.armed.map((a) => a.variant))];
  }

  start(): void {
    const ms = this.o.intervalMs ?? 1000;
    this.timer = setInterval(() => {
      this.running = this.running.then(() =>
        this.evaluate().catch((err: unknown) => this.o.onError?.(err as Error)),
      );
    }, ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One evaluation round; returns the actions taken. */
  async evaluate(): Promise<GuardAction[]> {
    const actions: GuardAction[] = [];
    for (const a of this.armed) {
      if (this.now() < a.coolUntil) continue;
      const health = this.o.monitor.health(a.variant);
      const breach = this.breach(a, health);
      a.streak = breach ? a.streak + 1 : 0;
      if (!breach || a.streak < a.guard.consecutive) continue;
      a.streak = 0;
      a.coolUntil = this.now() + (this.o.cooldownMs ?? 60_000);
      const action = await this.act(
        a.variant,
        `${breach} for ${a.guard.consecutive} consecutive evaluations`,
        health,
      );
      this.o.monitor.reset(a.variant);
      actions.push(action);
      this.o.onAction?.(action);
    }
    return actions;
  }

  private breach(a: Armed, h: SlotHealth): string | undefined {
    if (h.samples < a.guard.minSamples) return undefined;
    const g = a.guard;
    if (g.maxErrorRate !== undefined && h.errorRate > g.maxErrorRate) {
      return `error rate ${h.errorRate.toFixed(4)} > ${g.maxErrorRate}`;
    }
    if (g.maxP99LatencyMs !== undefined && h.p99LatencyMs > g.maxP99LatencyMs) {
      return `p99 latency ${h.p99LatencyMs.toFixed(2)} ms > ${g.maxP99LatencyMs} ms`;
    }
    return undefined;
  }

  private async act(variant: string, reason: string, health: SlotHealth): Promise<GuardAction> {
    const ref = this.o.slots.slotRef(variant);
    const model = ref?.model ?? '?';
    const experiment = `${this.o.experiment.name}@${this.o.experiment.version}`;
    const details = { experiment, variant, reason, health };
    const follows =
      ref !== undefined && ref.modelVersion === undefined && (ref.stage ?? 'champion') === 'champion';
    let action: GuardAction;
    if (!follows) {
      action = { variant, model, outcome: 'alert-only', reason, health };
    } else {
      try {
        const restored = await this.o.registry.rollback(model, `guard rail: variant ${variant}: ${reason}`);
        action = {
          variant,
          model,
          outcome: 'rolled-back',
          restoredVersion: restored.version,
          reason,
          health,
        };
        // Do not wait for the lifecycle event to come back around: swap now (refresh is idempotent).
        await this.o.slots.refresh(model);
      } catch (err) {
        action = {
          variant,
          model,
          outcome: 'rollback-failed',
          reason: `${reason}; rollback failed: ${(err as Error).message}`,
          health,
        };
      }
    }
    const target = `model:${model}${action.restoredVersion ? `@${action.restoredVersion}` : ''}`;
    await this.o.audit.record({
      actor: 'guard-rails',
      action: action.outcome === 'rolled-back' ? 'model.rollback' : `guard.${action.outcome}`,
      target,
      details: { ...details, reason: action.reason },
    });
    await this.o.alerts.send({
      dedupKey: `guard-rail:${experiment}:${variant}`,
      kind: 'MODEL_LIFECYCLE',
      severity: 'CRITICAL',
      title:
        action.outcome === 'rolled-back'
          ? `Guard rail rolled back ${model} to ${action.restoredVersion}`
          : `Guard rail breached for variant ${variant} (${action.outcome})`,
      message: `experiment ${experiment}, variant ${variant}: ${action.reason}`,
      model,
      modelVersion: action.restoredVersion ?? null,
      labels: { experiment: this.o.experiment.name, variant, outcome: action.outcome },
    });
    return action;
  }
}
