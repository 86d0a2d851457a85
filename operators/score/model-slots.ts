/**
 * The scorers of one experiment, one per slot (served variant or shadow), shared by every partition of
 * the worker. A slot pinned to a version keeps it; an unpinned slot follows the newest registry version in
 * its stage (champion by default). refresh() re-reads the registry — the registry is the truth, lifecycle
 * events only say when to look — and hot-swaps changed slots: scorer.swap() when the feature list is the
 * same (atomic between batches: no row dropped or scored twice), a fresh scorer when it changed. A model
 * that fails verification (checksum, ONNX load, input shape, features the view lacks) is refused and the
 * slot keeps serving its current model.
 *
 * derive() builds the slots of a NEW experiment version from these: a slot whose model ref is unchanged is
 * handed over with its running scorer (no reload, no cold start), the others are loaded and verified like
 * open() does; if any cannot be served, nothing changes and the error says which slot and why. The old
 * instance then only closes what it did not hand over.
 */
import type { ModelMetadata, ModelStage } from '../../connectors/model-registry/model-metadata.js';
import type { ExperimentConfig, ModelRef } from '../../connectors/experiments/index.js';
import { experimentSlots } from '../../connectors/experiments/index.js';
import { MicroBatchScorer, type LoadableModel, type ScorerOptions } from './micro-batch-scorer.js';

/** The part of FileModelRegistry the slots read. */
export interface ModelSource {
  list(name: string): Promise<readonly ModelMetadata[]>;
  loadVerified(name: string, version: string): Promise<LoadableModel & { readonly metadata: ModelMetadata }>;
}

export interface SlotChange {
  readonly slot: string;
  readonly model: string;
  readonly from: string;
  readonly to: string;
}

export interface SlotRefusal {
  readonly slot: string;
  readonly model: string;
  readonly version: string;
  /** ModelValidationError / ModelRegistryError code, e.g. CHECKSUM_MISMATCH, SHAPE_MISMATCH. */
  readonly code: string;
  readonly message: string;
}

export interface ModelSlotsOptions {
  /** Applied to every scorer; `name` is set per slot. */
  readonly scorer?: Omit<ScorerOptions, 'name' | 'availableFeatures'>;
  /** Features the enrich stage serves; a model needing any other is refused. */
  readonly availableFeatures: readonly string[];
  readonly onSwap?: (change: SlotChange) => void;
  readonly onRefused?: (refusal: SlotRefusal) => void;
}

export class SlotConfigError extends Error {
  override readonly name = 'SlotConfigError';
}

interface Slot {
  readonly ref: ModelRef;
  readonly shadow: boolean;
  scorer: MicroBatchScorer;
  version: string;
  features: readonly string[];
  /** Versions refused once; not retried on every later event (versions are immutable). */
  readonly refused: Set<string>;
}

const errorCode = (err: unknown) =>
  String((err as { code?: unknown })?.code ?? (err as Error)?.name ?? 'ERROR');

export class ModelSlots {
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Slots given to a derived instance: it owns (refreshes, closes) their scorers from then on. */
  private readonly handedOver = new Set<Slot>();

  private constructor(
    readonly experiment: ExperimentConfig,
    private readonly source: ModelSource,
    private readonly slots: Map<string, Slot>,
    private readonly options: ModelSlotsOptions,
  ) {}

  /** Loads every slot's model; fails fast, naming the fix, if one cannot be resolved or opened. */
  static async open(
    experiment: ExperimentConfig,
    source: ModelSource,
    options: ModelSlotsOptions,
  ): Promise<ModelSlots> {
    const slots = new Map<string, Slot>();
    try {
      for (const { slot, shadow } of experimentSlots(experiment)) {
        slots.set(slot.name, await loadSlot(experiment, source, options, slot, shadow));
      }
    } catch (err) {
      await Promise.all([...slots.values()].map((s) => s.scorer.close()));
      throw err;
    }
    return new ModelSlots(experiment, source, slots, options);
  }

  scorer(slot: string): MicroBatchScorer {
    const s = this.slots.get(slot);
    if (!s) throw new SlotConfigError(`no scorer for slot ${slot} in experiment ${this.experiment.name}`);
    return s.scorer;
  }

  /** The feature order of the model a slot currently serves. */
  features(slot: string): readonly string[] {
    return this.slots.get(slot)?.features ?? [];
  }

  /** slot name -> name@version currently loaded. */
  current(): Record<string, string> {
    return Object.fromEntries([...this.slots].map(([n, s]) => [n, `${s.ref.model}@${s.version}`]));
  }

  /** Which model a slot scores with (for rollbacks by the guard rails). */
  slotRef(slot: string): ModelRef | undefined {
    return this.slots.get(slot)?.ref;
  }

  /** Re-resolves the slots that follow `model` (all when omitted); serialised with other refreshes. */
  refresh(model?: string): Promise<{ changed: SlotChange[]; refused: SlotRefusal[] }> {
    const run = () => this.refreshNow(model);
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  /**
   * The slots of another version of the experiment, sharing the scorers of unchanged slots; serialised
   * with refreshes. Throws (and leaves this instance as it was) when a slot of `experiment` cannot be
   * served. Close this instance once nothing reads it any more: it closes only the slots not handed over.
   */
  derive(experiment: ExperimentConfig): Promise<ModelSlots> {
    const run = () => this.deriveNow(experiment);
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    const owned = [...this.slots.values()].filter((s) => !this.handedOver.has(s));
    await Promise.all(owned.map((s) => s.scorer.close()));
  }

  private async deriveNow(experiment: ExperimentConfig): Promise<ModelSlots> {
    if (this.closed) throw new SlotConfigError(`slots of ${this.experiment.name} are closed`);
    const next = new Map<string, Slot>();
    const kept: Slot[] = [];
    const loaded: Slot[] = [];
    let at = '';
    try {
      for (const { slot, shadow } of experimentSlots(experiment)) {
        at = `slot ${slot.name} (${slot.model}@${slot.modelVersion ?? slot.stage ?? 'champion'})`;
        const prev = this.slots.get(slot.name);
        if (prev && !this.handedOver.has(prev) && prev.shadow === shadow && sameRef(prev.ref, slot)) {
          next.set(slot.name, prev);
          kept.push(prev);
          continue;
        }
        const s = await loadSlot(experiment, this.source, this.options, slot, shadow);
        loaded.push(s);
        next.set(slot.name, s);
      }
    } catch (err) {
      await Promise.all(loaded.map((s) => s.scorer.close()));
      if (err instanceof SlotConfigError) throw err;
      const code = errorCode(err);
      throw Object.assign(
        new SlotConfigError(
          `experiment ${experiment.name}@${experiment.version} ${at} cannot be served (${code}): ` +
            (err as Error).message,
          { cause: err },
        ),
        { code },
      );
    }
    for (const s of kept) this.handedOver.add(s);
    return new ModelSlots(experiment, this.source, next, this.options);
  }

  private async refreshNow(model: string | undefined) {
    const changed: SlotChange[] = [];
    const refused: SlotRefusal[] = [];
    for (const [name, slot] of this.slots) {
      if (this.closed) break;
      // A handed-over slot is refreshed by the instance that now owns it, never by two at once.
      if (this.handedOver.has(slot)) continue;
      if (slot.ref.modelVersion !== undefined) continue;
      if (model !== undefined && slot.ref.model !== model) continue;
      let version: string | undefined;
      try {
        version = await resolveVersion(this.source, slot.ref);
      } catch (err) {
        refused.push(this.refuse(name, slot, '?', err));
        continue;
      }
      if (version === undefined || version === slot.version || slot.refused.has(version)) continue;
      try {
        const loaded = await this.source.loadVerified(slot.ref.model, version);
        const sameFeatures = loaded.metadata.features.join('\u0000') === slot.features.join('\u0000');
        if (sameFeatures) {
          await slot.scorer.swap(loaded);
        } else {
          // A new feature list needs a new scorer; swap the reference in one assignment, then drain the old.
          const next = await MicroBatchScorer.create(loaded, scorerOptions(this.options, name));
          const old = slot.scorer;
          slot.scorer = next;
          void old.close();
        }
        const change = { slot: name, model: slot.ref.model, from: slot.version, to: version };
        slot.version = version;
        slot.features = loaded.metadata.features;
        changed.push(change);
        this.options.onSwap?.(change);
      } catch (err) {
        slot.refused.add(version);
        refused.push(this.refuse(name, slot, version, err));
      }
    }
    return { changed, refused };
  }

  private refuse(name: string, slot: Slot, version: string, err: unknown): SlotRefusal {
    const refusal: SlotRefusal = {
      slot: name,
      model: slot.ref.model,
      version,
      code: errorCode(err),
      message:
        `slot ${name} refused ${slot.ref.model}@${version} and keeps serving ${slot.ref.model}@${slot.version}: ` +
        (err as Error).message,
    };
    this.options.onRefused?.(refusal);
    return refusal;
  }
}

/** Resolves, loads and verifies one slot's model; fails naming the slot and the fix. */
async function loadSlot(
  experiment: ExperimentConfig,
  source: ModelSource,
  options: ModelSlotsOptions,
  slot: ModelRef,
  shadow: boolean,
): Promise<Slot> {
  const where = `experiment ${experiment.name}@${experiment.version} slot ${slot.name}`;
  let version: string | undefined;
  try {
    version = await resolveVersion(source, slot);
  } catch (err) {
    throw new SlotConfigError(`${where}: cannot list model ${slot.model}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (version === undefined) {
    throw new SlotConfigError(
      `${where} follows the ${slot.stage ?? 'champion'} of model ${slot.model}, but no version of ` +
        `${slot.model} is in that stage; register/promote one, or pin modelVersion in the experiment`,
    );
  }
  const model = await source.loadVerified(slot.model, version);
  const scorer = await MicroBatchScorer.create(model, scorerOptions(options, slot.name));
  return { ref: slot, shadow, scorer, version, features: model.metadata.features, refused: new Set() };
}

const sameRef = (a: ModelRef, b: ModelRef) =>
  a.model === b.model &&
  a.modelVersion === b.modelVersion &&
  (a.modelVersion !== undefined || (a.stage ?? 'champion') === (b.stage ?? 'champion'));

function scorerOptions(options: ModelSlotsOptions, slot: string): ScorerOptions {
  return { ...options.scorer, name: slot, availableFeatures: options.availableFeatures };
}

async function resolveVersion(source: ModelSource, ref: ModelRef): Promise<string | undefined> {
  if (ref.modelVersion !== undefined) return ref.modelVersion;
  const stage: ModelStage = ref.stage ?? 'champion';
  const versions = (await source.list(ref.model)).filter((m) => m.stage === stage);
  // list() is ordered by creation time: the newest version in the stage wins.
  return versions.at(-1)?.version;
}
