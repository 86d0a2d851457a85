/**
 * The bucket of an entity in an experiment: sha256(salt NUL key) read as a fraction in [0, 1). sha256 is
 * the same in every process, language and release, so an entity keeps its variant across restarts,
 * workers and re-partitioning; a new salt re-shuffles every entity independently of the old split.
 */
import { createHash } from 'node:crypto';

const SCALE = 2 ** 48;

export function bucketOf(salt: string, key: string): number {
  const digest = createHash('sha256').update(salt).update('\u0000').update(key).digest();
  // 48 bits keep the value exact in a double and far finer than any weight anyone sets.
  return digest.readUIntBE(0, 6) / SCALE;
}
