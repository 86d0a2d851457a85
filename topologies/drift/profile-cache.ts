/**
 * Reference profiles by model@version, loaded once from the registry. A model version's profile never
 * changes after registration, so successes are cached for the life of the worker. A version the registry
 * does not know (or whose profile cannot be binned) is remembered for `missTtlMs`, so a flood of its
 * predictions does not re-read the registry per record, while a version registered late is still picked up.
 */
import {
  InvalidModelMetadataError,
  type ReferenceProfile,
} from '../../connectors/model-registry/model-metadata.js';
import { ModelRegistryError } from '../../connectors/model-registry/registry-errors.js';
import { modelLayouts, ProfileLayoutError, type ModelLayouts } from './bin-layout.js';

/** FileModelRegistry satisfies this as is. */
export interface ProfileSource {
  get(name: string, version: string): Promise<{ readonly referenceProfile: ReferenceProfile }>;
}

/** Why predictions of a model version cannot be monitored; they go to the dead-letter topic with it. */
export class ProfileUnavailableError extends Error {
  override readonly name = 'ProfileUnavailableError';
  readonly code = 'DRIFT_PROFILE_UNAVAILABLE';
}

export interface ProfileCacheOptions {
  readonly missTtlMs?: number;
  readonly now?: () => number;
}

export class ProfileCache {
  private readonly hits = new Map<string, ModelLayouts>();
  private readonly misses = new Map<string, { error: ProfileUnavailableError; until: number }>();
  private readonly loading = new Map<string, Promise<ModelLayouts>>();
  private readonly missTtlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly source: ProfileSource,
    options: ProfileCacheOptions = {},
  ) {
    this.missTtlMs = options.missTtlMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The cached layouts, if loaded already (lets hot paths stay synchronous). */
  peek(model: string, version: string): ModelLayouts | undefined {
    return this.hits.get(`${model}@${version}`);
  }

  /** Resolves the layouts; rejects with ProfileUnavailableError when the version cannot be monitored. */
  get(model: string, version: string): Promise<ModelLayouts> {
    const key = `${model}@${version}`;
    const hit = this.hits.get(key);
    if (hit) return Promise.resolve(hit);
    const miss = this.misses.get(key);
    if (miss && miss.until > this.now()) return Promise.reject(miss.error);
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(model, version).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async load(model: string, version: string): Promise<ModelLayouts> {
    const key = `${model}@${version}`;
    try {
      const metadata = await this.source.get(model, version);
      const layouts = modelLayouts(model, version, metadata.referenceProfile);
      this.hits.set(key, layouts);
      this.misses.delete(key);
      return layouts;
    } catch (err) {
      // Only "this version cannot be monitored" is a per-record verdict; anything else (disk errors)
      // propagates so the worker fails and retries instead of dead-lettering good predictions.
      if (
        err instanceof ModelRegistryError ||
        err instanceof InvalidModelMetadataError ||
        err instanceof ProfileLayoutError
      ) {
        const error = new ProfileUnavailableError(`no usable reference profile for ${key}: ${err.message}`, {
          cause: err,
        });
        this.misses.set(key, { error, until: this.now() + this.missTtlMs });
        throw error;
      }
      throw err;
    }
  }
}
