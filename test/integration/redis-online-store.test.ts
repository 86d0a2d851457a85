/**
 * The Redis online store against the real server at REDIS_URL (default 127.0.0.1:6379). Every test uses
 * its own key prefix and deletes its keys afterwards.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { loadEndpoints } from '../../connectors/config/endpoints.js';
import {
  FEATURE_AGE_METRIC,
  FeatureRowError,
  OnlineStoreWriteError,
  createOnlineFeatureReader,
  createOnlineFeatureWriter,
  createRedisClient,
  featureKey,
  type OnlineFeatureRow,
  type RedisConnection,
} from '../../connectors/redis/index.js';
import { freePort } from '../support/free-port.js';

const redisTarget = new URL(loadEndpoints().redisUrl);
const REDIS_HOST = redisTarget.hostname;
const REDIS_PORT = Number(redisTarget.port || 6379);
const quietLogger = { warn: () => undefined } as never;

function uniquePrefix(): string {
  return `sluice-test-${randomUUID().slice(0, 8)}:fv`;
}

async function deleteKeys(redis: RedisConnection, prefix: string): Promise<void> {
  const keys = await (redis as import('ioredis').Redis).keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

/**
 * A TCP proxy in front of Redis that counts request flights: the number of times the client starts
 * sending after the server last answered. A pipeline is one flight; N sequential commands are N.
 */
async function startCountingProxy(listenPort = 0) {
  let flights = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(REDIS_PORT, REDIS_HOST);
    let direction: 'up' | 'down' = 'down';
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (direction === 'down') flights += 1;
      direction = 'up';
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      direction = 'down';
      client.write(chunk);
    });
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', closeBoth).on('error', closeBoth);
    upstream.on('close', closeBoth).on('error', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    flights: () => flights,
    resetFlights: () => {
      flights = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('redis online store', () => {
  let redis: RedisConnection;
  const prefixes: string[] = [];
  const newPrefix = () => {
    const p = uniquePrefix();
    prefixes.push(p);
    return p;
  };

  before(async () => {
    redis = createRedisClient(process.env, { logger: quietLogger });
    await redis.ping();
  });

  after(async () => {
    for (const p of prefixes) await deleteKeys(redis, p);
    redis.disconnect();
  });

  it('never regresses: an older version after a newer one is skipped, an equal one re-applied', async () => {
    const keyPrefix = newPrefix();
    let clock = 1_000_000;
    const writer = createOnlineFeatureWriter(redis, { keyPrefix, now: () => clock });
    const key = featureKey(keyPrefix, 'card', 'c1');

    const newer = await writer.writeBatch([
      { view: 'card', entity: 'c1', version: 200, values: { amt: 1.5 } },
    ]);
    assert.deepEqual(newer.outcomes, ['applied']);
    const afterNewer = await redis.hgetall(key);
    assert.equal(afterNewer.amt, '1.5');

    clock += 5000;
    const older = await writer.writeBatch([
      { view: 'card', entity: 'c1', version: 100, values: { amt: 99 } },
    ]);
    assert.deepEqual(older.outcomes, ['skipped']);
    assert.equal(older.skipped, 1);
    assert.deepEqual(await redis.hgetall(key), afterNewer);

    clock += 5000;
    const equal = await writer.writeBatch([
      { view: 'card', entity: 'c1', version: 200, values: { amt: 1.5 } },
    ]);
    assert.deepEqual(equal.outcomes, ['applied']);
    // Same version, same values: the hash is unchanged, including the first write's __ts.
    assert.deepEqual(await redis.hgetall(key), afterNewer);

    const later = await writer.writeBatch([{ view: 'card', entity: 'c1', version: 300, values: { amt: 2 } }]);
    assert.deepEqual(later.outcomes, ['applied']);
    const afterLater = await redis.hgetall(key);
    assert.equal(afterLater.amt, '2');
    assert.equal(afterLater.__v, '300');
    assert.equal(afterLater.__ts, String(clock));
  });

  it('orders out-of-order rows of one batch by version, not by arrival', async () => {
    const keyPrefix = newPrefix();
    const writer = createOnlineFeatureWriter(redis, { keyPrefix });
    const result = await writer.writeBatch([
      { view: 'card', entity: 'c2', version: 50, values: { n: 5 } },
      { view: 'card', entity: 'c2', version: 30, values: { n: 3 } },
      { view: 'card', entity: 'c2', version: 40, values: { n: 4 } },
    ]);
    assert.deepEqual(result.outcomes, ['applied', 'skipped', 'skipped']);
    assert.equal(await redis.hget(featureKey(keyPrefix, 'card', 'c2'), 'n'), '5');
  });

  it('sets a TTL on every applied write', async () => {
    const keyPrefix = newPrefix();
    const ttlMs = 60_000;
    const writer = createOnlineFeatureWriter(redis, { keyPrefix, ttlMs });
    await writer.writeBatch([{ view: 'card', entity: 'c3', version: 1, values: { x: 1 } }]);
    const pttl = await redis.pttl(featureKey(keyPrefix, 'card', 'c3'));
    assert.ok(pttl > ttlMs - 5000 && pttl <= ttlMs, `pttl ${pttl} should be close to ${ttlMs}`);
  });

  it('replaying the same batch twice leaves identical hashes', async () => {
    const keyPrefix = newPrefix();
    let clock = 5_000_000;
    const writer = createOnlineFeatureWriter(redis, { keyPrefix, now: () => clock });
    const batch: OnlineFeatureRow[] = Array.from({ length: 50 }, (_, i) => ({
      view: 'merchant',
      entity: `m${i % 20}`,
      version: 1000 + ((i * 7) % 13),
      values: { count: i, mean: i / 3, missing: i % 4 === 0 ? null : i * 0.1 },
    }));
    const snapshot = async () => {
      const keys = Array.from({ length: 20 }, (_, i) => featureKey(keyPrefix, 'merchant', `m${i}`));
      return Promise.all(keys.map((k) => redis.hgetall(k)));
    };
    const first = await writer.writeBatch(batch);
    const afterFirst = await snapshot();
    clock += 60_000;
    const second = await writer.writeBatch(batch);
    assert.deepEqual(await snapshot(), afterFirst);
    assert.equal(afterFirst.filter((h) => Object.keys(h).length > 0).length, 20);
    // On replay every row is either re-applied (it is the stored version) or skipped (an older one).
    assert.equal(second.applied + second.skipped, batch.length);
    assert.ok(second.skipped >= first.skipped);
  });

  it('reads 100 entities in one round trip, with values, ages and the freshness histogram', async () => {
    const keyPrefix = newPrefix();
    const proxy = await startCountingProxy();
    const proxied = createRedisClient(
      { ...process.env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
      { logger: quietLogger },
    );
    try {
      await proxied.ping();
      const writer = createOnlineFeatureWriter(redis, { keyPrefix });
      const rows = Array.from({ length: 90 }, (_, i) => ({
        view: 'card',
        entity: `e${i}`,
        version: 10_000 + i,
        values: { amount: i * 1.25, velocity: -i },
      }));
      await writer.writeBatch(rows);
      const registry = new Registry();
      const readAt = 70_000;
      const reader = createOnlineFeatureReader(proxied, { keyPrefix, registry, now: () => readAt });
      const entities = Array.from({ length: 100 }, (_, i) => `e${i}`);

      proxy.resetFlights();
      const found = await reader.readMany('card', entities);
      assert.equal(proxy.flights(), 1);

      assert.equal(found.length, 100);
      for (let i = 0; i < 100; i += 1) {
        const f = found[i];
        if (i >= 90) {
          assert.equal(f, null, `e${i} was never written`);
          continue;
        }
        assert.ok(f, `e${i} should be found`);
        assert.equal(f.entity, `e${i}`);
        assert.deepEqual(f.values, { amount: i * 1.25, velocity: -i });
        assert.equal(f.version, 10_000 + i);
        assert.equal(f.ageMs, readAt - (10_000 + i));
      }
      const metric = await registry.getSingleMetric(FEATURE_AGE_METRIC)?.get();
      const count = metric?.values.find(
        (v) => (v as { metricName?: string }).metricName === `${FEATURE_AGE_METRIC}_count`,
      );
      assert.equal(count?.value, 90);
      assert.equal(count?.labels.view, 'card');
    } finally {
      proxied.disconnect();
      await proxy.close();
    }
  });

  it('rejects bad rows before writing anything', async () => {
    const keyPrefix = newPrefix();
    const writer = createOnlineFeatureWriter(redis, { keyPrefix });
    const good = { view: 'card', entity: 'ok', version: 1, values: { x: 1 } };
    await assert.rejects(
      writer.writeBatch([good, { view: 'card', entity: 'bad', version: Number.NaN, values: { x: 1 } }]),
      (err: Error) => err instanceof FeatureRowError && /version/.test(err.message),
    );
    await assert.rejects(
      writer.writeBatch([good, { view: 'card', entity: 'bad', version: 2, values: { x: 'high' as never } }]),
      FeatureRowError,
    );
    assert.equal(await redis.exists(featureKey(keyPrefix, 'card', 'ok')), 0);
  });

  it('fails at once, without retrying, when a key holds something else', async () => {
    const keyPrefix = newPrefix();
    await redis.set(featureKey(keyPrefix, 'card', 'taken'), 'not a hash');
    let retries = 0;
    const writer = createOnlineFeatureWriter(redis, { keyPrefix, onRetry: () => (retries += 1) });
    await assert.rejects(
      writer.writeBatch([{ view: 'card', entity: 'taken', version: 1, values: { x: 1 } }]),
      (err: Error) =>
        err instanceof OnlineStoreWriteError && /after 1 attempt\(s\).*WRONGTYPE/.test(err.message),
    );
    assert.equal(retries, 0);
    assert.equal(await redis.get(featureKey(keyPrefix, 'card', 'taken')), 'not a hash');
  });

  it('retries a transient outage and succeeds once Redis is reachable', async () => {
    const keyPrefix = newPrefix();
    const port = await freePort();
    const client = createRedisClient(
      { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` },
      { logger: quietLogger, commandTimeoutMs: 500 },
    );
    let retries = 0;
    let proxy: Awaited<ReturnType<typeof startCountingProxy>> | undefined;
    // Redis "comes back" 600 ms into the write.
    const comeBack = setTimeout(() => {
      void startCountingProxy(port).then((p) => (proxy = p));
    }, 600);
    try {
      const writer = createOnlineFeatureWriter(client, {
        keyPrefix,
        retry: { retries: 20, minDelayMs: 50, maxDelayMs: 200, maxRetryTimeMs: 10_000 },
        onRetry: () => (retries += 1),
      });
      const result = await writer.writeBatch([{ view: 'card', entity: 'r1', version: 7, values: { x: 7 } }]);
      assert.deepEqual(result.outcomes, ['applied']);
      assert.ok(retries >= 1, 'the first attempt should have failed while Redis was unreachable');
      assert.equal(await redis.hget(featureKey(keyPrefix, 'card', 'r1'), 'x'), '7');
    } finally {
      clearTimeout(comeBack);
      client.disconnect();
      await proxy?.close();
    }
  });

  it('gives up after the retry budget with a clear error when Redis stays unreachable', async () => {
    const port = await freePort();
    const client = createRedisClient(
      { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` },
      { logger: quietLogger, commandTimeoutMs: 300 },
    );
    let retries = 0;
    const started = Date.now();
    try {
      const writer = createOnlineFeatureWriter(client, {
        keyPrefix: newPrefix(),
        retry: { retries: 50, minDelayMs: 50, maxDelayMs: 100, maxRetryTimeMs: 1500 },
        onRetry: () => (retries += 1),
      });
      await assert.rejects(
        writer.writeBatch([{ view: 'card', entity: 'x', version: 1, values: { x: 1 } }]),
        (err: Error) =>
          err instanceof OnlineStoreWriteError && /failed after \d+ attempt\(s\) in \d+ ms/.test(err.message),
      );
      assert.ok(retries >= 1, 'it should have retried before giving up');
      assert.ok(Date.now() - started < 6000, 'the retry budget bounds the time to fail');
    } finally {
      client.disconnect();
    }
  });
});
