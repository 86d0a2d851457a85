/**
 * Redis halves of the feature-store bench: online writes through the version-guarded Lua CAS beside a
 * plain pipelined HSET of the same rows (the CAS's cost) and beside redis-benchmark on the same server,
 * and one-round-trip reads of 100 entities beside a raw pipeline of 100 HGETALLs.
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import {
  createOnlineFeatureReader,
  createOnlineFeatureWriter,
  createRedisClient,
  featureKey,
  type OnlineFeatureRow,
} from '../../connectors/redis/index.js';
import { BENCH_FEATURES, benchFeatureRows, benchViewSpec } from './bench-feature-rows.js';
import { median, msSince, percentile } from './latency-stats.js';
import { redisBenchmark } from './redis-benchmark-cli.js';

export interface RedisWriteFigures {
  readonly rows: number;
  readonly pipeline: number;
  readonly casRowsPerSecond: number;
  readonly plainHsetRowsPerSecond: number;
  /** redis-benchmark, HSET of the same 12 fields, one connection, same pipeline depth. */
  readonly benchmarkSameRowsOneClient: number;
  /** redis-benchmark -t hset (one field, 50 connections), same pipeline depth: the server's ceiling. */
  readonly benchmarkHsetDefault: number;
}

export interface RedisReadFigures {
  readonly entities: number;
  readonly iterations: number;
  readonly readMany: { readonly p50: number; readonly p99: number };
  readonly rawPipeline: { readonly p50: number; readonly p99: number };
}

const quiet = pino({ level: 'error' });
const rowsPerSecond = (rows: number, ms: number) => (rows * 1000) / ms;

function onlineRows(view: string, count: number, version: number): OnlineFeatureRow[] {
  const spec = benchViewSpec(view);
  return benchFeatureRows(spec, count, version).map((r) => ({
    view,
    entity: r.entity,
    version,
    values: r.features,
  }));
}

/** The same hash the CAS leaves (fields, __v, __ts, TTL), written with plain pipelined HSET + PEXPIRE. */
async function plainHset(
  redis: Redis,
  prefix: string,
  rows: readonly OnlineFeatureRow[],
  pipeline: number,
): Promise<void> {
  const writtenAt = String(Date.now());
  for (let start = 0; start < rows.length; start += pipeline) {
    const p = redis.pipeline();
    for (const row of rows.slice(start, start + pipeline)) {
      const key = featureKey(prefix, row.view, row.entity);
      const fields: string[] = ['__v', String(row.version), '__ts', writtenAt];
      for (const [name, value] of Object.entries(row.values)) {
        if (value !== null) fields.push(name, String(value));
      }
      p.hset(key, ...fields);
      p.pexpire(key, 3_600_000);
    }
    const results = await p.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed)
      throw new Error(`plain HSET pipeline failed: ${failed?.[0]?.message ?? 'discarded'}`);
  }
}

/** Deletes every key under the bench's unique prefix (SCAN + UNLINK, never KEYS). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 2000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** redis-benchmark's `-t hset` writes the key "myhash"; run it in a spare logical db and remove only that. */
async function hsetCeiling(redisUrl: string, requests: number, pipeline: number): Promise<number> {
  const db = 15;
  const url = new URL(redisUrl);
  url.pathname = `/${db}`;
  const probe = createRedisClient({ ...process.env, REDIS_URL: url.toString() }, { logger: quiet }) as Redis;
  try {
    if ((await probe.exists('myhash')) === 1) {
      throw new Error(`redis db ${db} already has a key "myhash"; the -t hset baseline would overwrite it`);
    }
    const rps = await redisBenchmark({ redisUrl, requests, pipeline, tests: 'hset', dbnum: db });
    await probe.del('myhash');
    return rps;
  } finally {
    probe.disconnect();
  }
}

export async function benchRedisWrites(
  redisUrl: string,
  prefix: string,
  rows: number,
  pipeline: number,
  rounds: number,
): Promise<RedisWriteFigures> {
  const redis = createRedisClient({ ...process.env, REDIS_URL: redisUrl }, { logger: quiet }) as Redis;
  const casPrefix = `${prefix}:cas`;
  const plainPrefix = `${prefix}:plain`;
  try {
    const writer = createOnlineFeatureWriter(redis, {
      keyPrefix: casPrefix,
      ttlMs: 3_600_000,
      maxPipelineRows: pipeline,
    });
    const base = Date.now() - 3_600_000;
    // Warm-up writes create every hash, so the measured rounds replace existing rows with newer versions:
    // the steady state of an online store (every CAS applies: HGET, DEL, HSETs, PEXPIRE).
    await writer.writeBatch(onlineRows('bench_card', rows, base));
    await plainHset(redis, plainPrefix, onlineRows('bench_card', rows, base), pipeline);
    const cas: number[] = [];
    const plain: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const batch = onlineRows('bench_card', rows, base + round * 60_000);
      let start = process.hrtime.bigint();
      const result = await writer.writeBatch(batch);
      cas.push(rowsPerSecond(rows, msSince(start)));
      if (result.applied !== rows) throw new Error(`CAS applied ${result.applied} of ${rows} newer rows`);
      start = process.hrtime.bigint();
      await plainHset(redis, plainPrefix, batch, pipeline);
      plain.push(rowsPerSecond(rows, msSince(start)));
    }

    // The same 12-field hash per request, one connection, same pipeline depth, keys under our prefix.
    const sample = onlineRows('bench_card', 1, base)[0]!;
    const fields = ['__v', String(base), '__ts', String(base)];
    for (const name of BENCH_FEATURES) fields.push(name, String(sample.values[name]));
    const sameRows = await redisBenchmark({
      redisUrl,
      requests: rows * rounds,
      pipeline,
      clients: 1,
      keyspace: rows,
      command: ['HSET', `${prefix}:rb:{__rand_int__}`, ...fields],
    });
    const ceiling = await hsetCeiling(redisUrl, rows * rounds * 4, pipeline);
    return {
      rows,
      pipeline,
      casRowsPerSecond: median(cas),
      plainHsetRowsPerSecond: median(plain),
      benchmarkSameRowsOneClient: sameRows,
      benchmarkHsetDefault: ceiling,
    };
  } finally {
    await deleteByPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
  }
}

export async function benchRedisReads(
  redisUrl: string,
  prefix: string,
  stored: number,
  entities: number,
  iterations: number,
): Promise<RedisReadFigures> {
  const redis = createRedisClient({ ...process.env, REDIS_URL: redisUrl }, { logger: quiet }) as Redis;
  try {
    const view = 'bench_card';
    const writer = createOnlineFeatureWriter(redis, { keyPrefix: prefix, ttlMs: 3_600_000 });
    await writer.writeBatch(onlineRows(view, stored, Date.now() - 60_000));
    const reader = createOnlineFeatureReader(redis, { keyPrefix: prefix });
    const viaReader: number[] = [];
    const viaPipeline: number[] = [];
    const readRaw = async (keys: readonly string[]) => {
      const p = redis.pipeline();
      for (const key of keys) p.hgetall(key);
      const results = await p.exec();
      if (!results || results.some(([err]) => err)) throw new Error('raw HGETALL pipeline failed');
      return results;
    };
    for (let i = -50; i < iterations; i++) {
      // A different window of entities each time, so neither side reads a single hot set of keys.
      const first = ((i + 50) * 37 * entities) % (stored - entities);
      const ids = Array.from({ length: entities }, (_, k) => `card-${first + k}`);
      const keys = ids.map((id) => featureKey(prefix, view, id));
      // Alternate which goes first, so neither always reads from a warmer connection or cache.
      const order = i % 2 === 0 ? ['reader', 'raw'] : ['raw', 'reader'];
      for (const which of order) {
        const start = process.hrtime.bigint();
        if (which === 'reader') {
          const got = await reader.readMany(view, ids);
          if (got.some((g) => g === null)) throw new Error('readMany missed a stored entity');
        } else {
          await readRaw(keys);
        }
        // The first 50 iterations warm up the JIT and the connection and are not recorded.
        if (i >= 0) (which === 'reader' ? viaReader : viaPipeline).push(msSince(start));
      }
    }
    return {
      entities,
      iterations,
      readMany: { p50: percentile(viaReader, 50), p99: percentile(viaReader, 99) },
      rawPipeline: { p50: percentile(viaPipeline, 50), p99: percentile(viaPipeline, 99) },
    };
  } finally {
    await deleteByPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
  }
}
