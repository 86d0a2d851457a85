/**
 * A per-partition key-value store whose changes are captured at checkpoint barriers and written to a
 * compacted changelog topic in the same Kafka transaction as the source offsets. Capturing at the barrier
 * (not at commit time) matters: records after the barrier may already have changed the store by the time
 * the commit runs, and those must not be committed with the older offset.
 */
import type { KeyValueStore } from '../../schemas/stream.js';

/** One changelog record: null value is a tombstone (compaction then forgets the key). */
export interface ChangelogEntry {
  readonly key: string;
  readonly value: string | null;
}

export class ChangelogStore<V> implements KeyValueStore<V> {
  private readonly data = new Map<string, V>();
  private readonly dirty = new Set<string>();
  /** Keys the changelog holds a value for: a key born and deleted between two captures needs no tombstone. */
  private readonly persisted = new Set<string>();

  constructor(
    readonly name: string,
    restored: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const [key, json] of restored) {
      this.data.set(key, JSON.parse(json) as V);
      this.persisted.add(key);
    }
  }

  get size(): number {
    return this.data.size;
  }

  get(key: string): V | undefined {
    return this.data.get(key);
  }

  put(key: string, value: V): void {
    this.data.set(key, value);
    this.dirty.add(key);
  }

  delete(key: string): void {
    if (this.data.delete(key)) this.dirty.add(key);
  }

  keys(): IterableIterator<string> {
    return this.data.keys();
  }

  /** Serializes the keys changed since the last capture, and forgets them as dirty. */
  capture(): ChangelogEntry[] {
    const entries: ChangelogEntry[] = [];
    for (const key of this.dirty) {
      const value = this.data.get(key);
      if (value !== undefined) {
        entries.push({ key, value: JSON.stringify(value) });
        this.persisted.add(key);
      } else if (this.persisted.delete(key)) {
        entries.push({ key, value: null });
      }
    }
    this.dirty.clear();
    return entries;
  }
}
