/**
 * Versioned experiment configs on the filesystem: <root>/<name>/<version>.json, one immutable file per
 * version. Every save is a new version and old ones stay, so the experiment version stamped on a prediction
 * always names the exact split that produced it.
 *
 * Why files and not a compacted Kafka topic: compaction keeps only the latest value per key, so keeping
 * history would need one key per version anyway, and readers would have to replay the topic to find the
 * latest. The model registry already lives on the filesystem with the same one-writer (control service)
 * model; experiments reference its models, so keeping both side by side keeps them consistent and
 * inspectable with `cat`. A new version is created with link(2), which fails if the file exists, so two
 * concurrent writers can never both claim the same version number.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExperimentConfig, ExperimentDraft } from './experiment-config.js';
import { assertExperimentConfig, assertExperimentDraft } from './experiment-config.js';

export class ExperimentNotFoundError extends Error {
  override readonly name = 'ExperimentNotFoundError';
}

/** SLUICE_EXPERIMENT_DIR, else <SLUICE_STATE_DIR or .state>/experiments. */
export function experimentStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(
    env.SLUICE_EXPERIMENT_DIR ?? path.join(env.SLUICE_STATE_DIR ?? '.state', 'experiments'),
  );
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const VERSION_FILE = /^(\d{1,9})\.json$/;

export class FileExperimentStore {
  readonly root: string;
  private readonly now: () => Date;

  constructor(options: { root?: string; now?: () => Date } = {}) {
    this.root = path.resolve(options.root ?? experimentStoreRoot());
    this.now = options.now ?? (() => new Date());
  }

  private dir(name: string): string {
    if (!NAME_PATTERN.test(name)) {
      throw new ExperimentNotFoundError(`experiment name "${name}" must match ${NAME_PATTERN}`);
    }
    return path.join(this.root, name);
  }

  /** Validates and stores a draft as the next version of its experiment. */
  async save(draft: ExperimentDraft): Promise<ExperimentConfig> {
    assertExperimentDraft(draft, `draft ${String((draft as { name?: unknown })?.name)}`);
    const dir = this.dir(draft.name);
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      for (let attempt = 0; attempt < 100; attempt++) {
        const version = ((await this.versions(draft.name)).at(-1) ?? 0) + 1;
        const config: ExperimentConfig = { ...draft, version, createdAt: this.now().toISOString() };
        await writeFile(tmp, JSON.stringify(config, null, 2) + '\n');
        try {
          await link(tmp, path.join(dir, `${version}.json`));
          return config;
        } catch (err) {
          // Another writer took this version number first: read again and take the next one.
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      throw new Error(`could not allocate a version for experiment ${draft.name} after 100 attempts`);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Version numbers of an experiment, ascending. */
  async versions(name: string): Promise<number[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return entries
      .map((e) => VERSION_FILE.exec(e)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** One version, or the latest when version is omitted. */
  async get(name: string, version?: number): Promise<ExperimentConfig> {
    const v = version ?? (await this.versions(name)).at(-1);
    if (v === undefined) {
      throw new ExperimentNotFoundError(
        `experiment ${name} has no saved version in ${this.root}; save one first (or set SLUICE_EXPERIMENT_DIR)`,
      );
    }
    const file = path.join(this.dir(name), `${v}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ExperimentNotFoundError(`experiment ${name} has no version ${v} in ${this.root}`);
      }
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ExperimentNotFoundError(`${file} is not valid JSON; restore it from a backup`, {
        cause: err,
      });
    }
    assertExperimentConfig(parsed, file);
    if (parsed.name !== name || parsed.version !== v) {
      throw new ExperimentNotFoundError(
        `${file} holds ${parsed.name} version ${parsed.version}; files must not be renamed or copied by hand`,
      );
    }
    return parsed;
  }

  /** Names of every experiment in the store. */
  async names(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && NAME_PATTERN.test(e.name)).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}
