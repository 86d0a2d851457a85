/**
 * The experiment version a scoring worker serves: its router and model slots, handed to the score stage
 * one micro-batch at a time (a ServingSource). switchTo() loads and verifies every slot of a new version
 * BEFORE switching — a version that cannot be served is refused with the reason, and the current one keeps
 * serving — then swaps router + slots in one assignment, so no batch mixes versions. Slots the new
 * version dropped are closed only once every batch that still holds the old state has finished.
 */
import { Gauge } from 'prom-client';
import type { ExperimentConfig } from '../../connectors/experiments/index.js';
import { sharedMetric } from '../../connectors/metrics.js';
import { createRouter } from '../../operators/route/router.js';
import type { ModelSlots } from '../../operators/score/model-slots.js';
import type { ServingLease, ServingSource, ServingState } from '../../operators/score/score-stage.js';

export const EXPERIMENT_VERSION_METRIC = 'sluice_experiment_active_version';

const activeVersion = () =>
  sharedMetric(
    EXPERIMENT_VERSION_METRIC,
    () =>
      new Gauge({
        name: EXPERIMENT_VERSION_METRIC,
        help: 'Experiment config version a scoring topology currently routes and scores with',
        labelNames: ['topology', 'experiment'],
      }),
  );

export interface ExperimentSwitch {
  readonly experiment: string;
  readonly from: number;
  readonly to: number;
  /** Slot -> model@version of the new version. */
  readonly slots: Record<string, string>;
}

interface Entry {
  readonly state: ServingState & { readonly slots: ModelSlots };
  inFlight: number;
  /** Set once the entry is replaced; resolved when its last batch releases it. */
  idle?: () => void;
}

export class ServingExperiment implements ServingSource {
  private entry: Entry;
  private switching: Promise<unknown> = Promise.resolve();
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    slots: ModelSlots,
    private readonly topology: string,
  ) {
    this.entry = { state: { router: createRouter(slots.experiment), slots }, inFlight: 0 };
    activeVersion().set({ topology, experiment: slots.experiment.name }, slots.experiment.version);
  }

  get experiment(): ExperimentConfig {
    return this.entry.state.slots.experiment;
  }

  /** The slots of the version being served now (lifecycle refreshes and guard rails act on these). */
  get slots(): ModelSlots {
    return this.entry.state.slots;
  }

  acquire(): ServingLease {
    const entry = this.entry;
    entry.inFlight++;
    let released = false;
    return {
      state: entry.state,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.inFlight === 0) entry.idle?.();
      },
    };
  }

  /**
   * Serves `next` from the next micro-batch on, once all its slots are loaded and verified; throws (and
   * keeps the current version) when it cannot be served. Serialised: one switch at a time.
   */
  switchTo(next: ExperimentConfig): Promise<ExperimentSwitch> {
    const run = () => this.switchNow(next);
    const result = this.switching.then(run, run);
    this.switching = result.catch(() => undefined);
    return result;
  }

  /** Waits for retired versions to drain and close; the current slots are closed too. */
  async close(): Promise<void> {
    await this.switching;
    await Promise.all(this.retiring);
    await this.entry.state.slots.close();
    activeVersion().remove({ topology: this.topology, experiment: this.experiment.name });
  }

  private async switchNow(next: ExperimentConfig): Promise<ExperimentSwitch> {
    const old = this.entry;
    const from = old.state.slots.experiment;
    if (next.name !== from.name) {
      throw new Error(`cannot switch experiment ${from.name} to a config of ${next.name}`);
    }
    const router = createRouter(next); // validates the config before anything is loaded
    const slots = await old.state.slots.derive(next);
    this.entry = { state: { router, slots }, inFlight: 0 };
    activeVersion().set({ topology: this.topology, experiment: next.name }, next.version);
    // A promotion handled by the old slots while the new ones were loading must not be missed.
    await slots.refresh().catch(() => undefined);
    const retired = this.retire(old);
    this.retiring.add(retired);
    void retired.finally(() => this.retiring.delete(retired));
    return { experiment: next.name, from: from.version, to: next.version, slots: slots.current() };
  }

  private async retire(old: Entry): Promise<void> {
    if (old.inFlight > 0) await new Promise<void>((resolve) => (old.idle = resolve));
    await old.state.slots.close();
  }
}
