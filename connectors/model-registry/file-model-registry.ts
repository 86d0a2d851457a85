/**
 * A filesystem model registry: <root>/<name>/<version>/{model.onnx, metadata.json}. A new version appears by
 * one directory rename and metadata changes by one file rename, so a reader never sees a half-written model.
 * Stage changes are serialised within the process; run one writer (the control service) per root.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LifecycleEventHandler, ModelLifecycleEvent } from './lifecycle-event.js';
import type { ModelCandidate, ModelMetadata, ModelStage, StageChange } from './model-metadata.js';
import { assertModelCandidate, assertModelMetadata, MODEL_STAGES } from './model-metadata.js';
import { ModelChecksumError, ModelRegistryError } from './registry-errors.js';

export const MODEL_FILE = 'model.onnx';
export const METADATA_FILE = 'metadata.json';

/** The registry root from the environment: SLUICE_MODEL_DIR, else .state/models under the working dir. */
export function modelRegistryRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.SLUICE_MODEL_DIR ?? path.join('.state', 'models'));
}

export interface FileModelRegistryOptions {
  readonly root?: string;
  /** Called after each persisted registration / stage change (the lead wires it to a Kafka topic). */
  readonly onLifecycleEvent?: LifecycleEventHandler;
  readonly now?: () => Date;
}

export interface VerifiedModel {
  readonly metadata: ModelMetadata;
  readonly bytes: Uint8Array;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function checkName(kind: string, value: string): void {
  if (!NAME_PATTERN.test(value)) {
    throw new ModelRegistryError(
      'INVALID_NAME',
      `model ${kind} "${value}" must match ${NAME_PATTERN} (letters, digits, . _ -; no slashes)`,
    );
  }
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const isMissingFile = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

export class FileModelRegistry {
  readonly root: string;
  private readonly onLifecycleEvent: LifecycleEventHandler;
  private readonly now: () => Date;
  /** Serialises read-modify-write of stages so two promotions cannot both see the same old champion. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(options: FileModelRegistryOptions = {}) {
    this.root = path.resolve(options.root ?? modelRegistryRoot());
    this.onLifecycleEvent = options.onLifecycleEvent ?? (() => {});
    this.now = options.now ?? (() => new Date());
  }

  private dir(name: string, version: string): string {
    checkName('name', name);
    checkName('version', version);
    return path.join(this.root, name, version);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.lock.then(work, work);
    this.lock = result.catch(() => undefined);
    return result;
  }

  /** Registers a trained model (stage shadow unless told otherwise). The bytes must match candidate.sha256. */
  async register(
    candidate: ModelCandidate,
    modelBytes: Uint8Array,
    options: { stage?: ModelStage; reason?: string } = {},
  ): Promise<ModelMetadata> {
    assertModelCandidate(candidate, `candidate ${candidate?.name}@${candidate?.version}`);
    const target = this.dir(candidate.name, candidate.version);
    const actual = sha256Hex(modelBytes);
    if (actual !== candidate.sha256) {
      throw new ModelChecksumError(`${candidate.name}@${candidate.version}`, candidate.sha256, actual);
    }
    const stage = options.stage ?? 'shadow';
    const reason = options.reason ?? 'registered';
    return this.exclusive(async () => {
      const at = this.now().toISOString();
      // A champion is registered as shadow first, then promoted, so the old champion is demoted properly.
      const initial: ModelStage = stage === 'champion' ? 'shadow' : stage;
      const metadata: ModelMetadata = {
        ...candidate,
        stage: initial,
        createdAt: at,
        stageHistory: [{ from: null, to: initial, at, reason }],
      };
      const parent = path.join(this.root, candidate.name);
      await mkdir(parent, { recursive: true });
      const staging = path.join(parent, `.staging-${candidate.version}-${randomBytes(4).toString('hex')}`);
      await mkdir(staging);
      try {
        await writeFile(path.join(staging, MODEL_FILE), modelBytes);
        await writeFile(path.join(staging, METADATA_FILE), JSON.stringify(metadata, null, 2) + '\n');
        await rename(staging, target);
      } catch (err) {
        await rm(staging, { recursive: true, force: true });
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw new ModelRegistryError(
            'VERSION_EXISTS',
            `model ${candidate.name}@${candidate.version} is already registered; versions are immutable, ` +
              'register a new version instead',
          );
        }
        throw err;
      }
      await this.emit({ type: 'registered', ...this.eventFields(metadata, null, initial, reason, at) });
      if (stage === 'champion')
        return this.changeStage(candidate.name, candidate.version, 'champion', reason);
      return metadata;
    });
  }

  /** Registers the model.onnx + metadata.json a trainer wrote into a directory. */
  async registerFromDirectory(dir: string, options: { stage?: ModelStage; reason?: string } = {}) {
    const raw = await readFile(path.join(dir, METADATA_FILE), 'utf8');
    let candidate: unknown;
    try {
      candidate = JSON.parse(raw);
    } catch (err) {
      throw new ModelRegistryError('MODEL_NOT_FOUND', `${path.join(dir, METADATA_FILE)} is not JSON`, {
        cause: err,
      });
    }
    assertModelCandidate(candidate, path.join(dir, METADATA_FILE));
    return this.register(candidate, await readFile(path.join(dir, MODEL_FILE)), options);
  }

  async get(name: string, version: string): Promise<ModelMetadata> {
    const file = path.join(this.dir(name, version), METADATA_FILE);
    let raw: string;
    try {
      raw = await readFile(file, 'utf8');
    } catch (err) {
      if (isMissingFile(err)) {
        throw new ModelRegistryError(
          'MODEL_NOT_FOUND',
          `model ${name}@${version} is not registered in ${this.root}`,
        );
      }
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new ModelRegistryError(
        'MODEL_NOT_FOUND',
        `${file} is not valid JSON; restore it or re-register`,
        {
          cause: err,
        },
      );
    }
    assertModelMetadata(parsed, file);
    return parsed;
  }

  /** Every version of one model (or of all models), ordered by name then creation time. */
  async list(name?: string): Promise<ModelMetadata[]> {
    const names = name !== undefined ? [name] : await this.listDirs(this.root);
    const out: ModelMetadata[] = [];
    for (const n of names) {
      checkName('name', n);
      for (const v of await this.listDirs(path.join(this.root, n))) out.push(await this.get(n, v));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.createdAt.localeCompare(b.createdAt));
  }

  async champion(name: string): Promise<ModelMetadata | undefined> {
    return (await this.list(name)).find((m) => m.stage === 'champion');
  }

  /** Reads a model and refuses it, with ModelChecksumError, unless its bytes match the registered sha256. */
  async loadVerified(name: string, version: string): Promise<VerifiedModel> {
    const metadata = await this.get(name, version);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path.join(this.dir(name, version), MODEL_FILE));
    } catch (err) {
      if (isMissingFile(err)) {
        throw new ModelRegistryError(
          'MODEL_NOT_FOUND',
          `model ${name}@${version} has metadata but no ${MODEL_FILE}`,
        );
      }
      throw err;
    }
    const actual = sha256Hex(bytes);
    if (actual !== metadata.sha256)
      throw new ModelChecksumError(`${name}@${version}`, metadata.sha256, actual);
    return { metadata, bytes };
  }

  /** Moves a version to a stage. Promoting to champion archives the current champion (one per model). */
  setStage(name: string, version: string, stage: ModelStage, reason = 'manual'): Promise<ModelMetadata> {
    if (!MODEL_STAGES.includes(stage)) {
      return Promise.reject(new TypeError(`stage must be one of ${MODEL_STAGES.join(', ')}, got ${stage}`));
    }
    return this.exclusive(() => this.changeStage(name, version, stage, reason));
  }

  /** Puts back the champion the current one replaced (the current one is archived); returns it. */
  rollback(name: string, reason = 'rollback'): Promise<ModelMetadata> {
    return this.exclusive(async () => {
      const current = (await this.list(name)).find((m) => m.stage === 'champion');
      const promotion = current?.stageHistory.findLast((h) => h.to === 'champion');
      if (!current || !promotion?.replaced) {
        throw new ModelRegistryError(
          'NO_PREVIOUS_CHAMPION',
          current
            ? `model ${name}@${current.version} replaced no earlier champion; promote a version explicitly`
            : `model ${name} has no champion to roll back from`,
        );
      }
      return this.changeStage(name, promotion.replaced, 'champion', `${reason} (from ${current.version})`);
    });
  }

  private async changeStage(name: string, version: string, stage: ModelStage, reason: string) {
    const target = await this.get(name, version);
    if (target.stage === stage) return target;
    const at = this.now().toISOString();
    let replaced: string | undefined;
    if (stage === 'champion') {
      const old = (await this.list(name)).find((m) => m.stage === 'champion' && m.version !== version);
      if (old) {
        replaced = old.version;
        await this.persistStage(old, 'archived', `superseded by ${version}: ${reason}`, at);
      }
    }
    return this.persistStage(target, stage, reason, at, replaced);
  }

  private async persistStage(
    m: ModelMetadata,
    stage: ModelStage,
    reason: string,
    at: string,
    replaced?: string,
  ): Promise<ModelMetadata> {
    const change: StageChange = replaced
      ? { from: m.stage, to: stage, at, reason, replaced }
      : { from: m.stage, to: stage, at, reason };
    const updated: ModelMetadata = { ...m, stage, stageHistory: [...m.stageHistory, change] };
    const file = path.join(this.dir(m.name, m.version), METADATA_FILE);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, JSON.stringify(updated, null, 2) + '\n');
    await rename(tmp, file);
    await this.emit({ type: 'stage_changed', ...this.eventFields(updated, m.stage, stage, reason, at) });
    return updated;
  }

  private eventFields(m: ModelMetadata, from: ModelStage | null, to: ModelStage, reason: string, at: string) {
    return {
      eventId: randomUUID(),
      name: m.name,
      version: m.version,
      from,
      to,
      reason,
      at,
      sha256: m.sha256,
      artifactUri: path.join(this.dir(m.name, m.version), MODEL_FILE),
      features: m.features,
      trainingMetrics: m.trainingMetrics,
    };
  }

  private async emit(event: ModelLifecycleEvent): Promise<void> {
    try {
      await this.onLifecycleEvent(event);
    } catch (err) {
      throw new ModelRegistryError(
        'LIFECYCLE_EVENT_FAILED',
        `${event.name}@${event.version} is now ${event.to} on disk, but publishing the lifecycle event failed ` +
          `(${(err as Error).message}); re-run the stage change or republish so workers pick it up`,
        { cause: err },
      );
    }
  }

  private async listDirs(dir: string): Promise<string[]> {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && NAME_PATTERN.test(e.name)).map((e) => e.name);
    } catch (err) {
      if (isMissingFile(err)) return [];
      throw err;
    }
  }
}
