/**
 * The serving API against the real Redis at REDIS_URL: rows written by the online writer (the feature
 * topology's sink) come back through POST /api/features/:view/lookup in request order with their age,
 * missing entities say so, an unknown view or a malformed body is refused, no token is 401, and a Redis
 * that does not answer is a 503, never an empty row.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import {
  createOnlineFeatureReader,
  createOnlineFeatureWriter,
  createRedisClient,
  type RedisConnection,
} from '../../connectors/redis/index.js';
import { parseTokenList } from '../../services/common/index.js';
import { redisFeatureSource } from '../../services/control/redis-feature-source.js';
import { createControlService } from '../../services/control/server.js';
import type { OnlineFeatureSource } from '../../services/control/sources.js';
import {
  fixedHealth,
  fixedThroughput,
  InMemoryStageChanger,
  inMemoryDrift,
  inMemoryLag,
  inMemoryReports,
  inMemoryTopologies,
} from '../../services/control/testing/in-memory-sources.js';
import { freePort } from '../support/free-port.js';

const VIEWER = 'viewer-token-0123456789abcdef';
const VIEW = 'card_txn_1m';
const NOW = 1_800_000_000_000;
const keyPrefix = `sluice-test-${randomUUID().slice(0, 8)}:fv`;

async function controlWith(features: OnlineFeatureSource): Promise<FastifyInstance> {
  const app = await createControlService(
    {
      status: {
        topologies: inMemoryTopologies([]),
        lag: inMemoryLag({}),
        throughput: fixedThroughput({}),
        health: fixedHealth([]),
      },
      drift: inMemoryDrift({}),
      experiments: inMemoryReports([]),
      models: new InMemoryStageChanger({}),
      features,
    },
    {
      logger: pino({ level: 'silent' }),
      tokens: { mode: 'tokens', tokens: parseTokenList(`viewer:${VIEWER}:vera`) },
    },
  );
  await app.ready();
  return app;
}

const lookup = (app: FastifyInstance, view: string, body: unknown, token: string | null = VIEWER) =>
  app.inject({
    method: 'POST',
    url: `/api/features/${view}/lookup`,
    payload: body as object,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });

describe('feature lookup (serving API)', () => {
  let redis: RedisConnection;
  let app: FastifyInstance;

  before(async () => {
    redis = createRedisClient();
    const writer = createOnlineFeatureWriter(redis, { keyPrefix });
    await writer.writeBatch([
      { view: VIEW, entity: 'card-1', version: NOW - 30_000, values: { txnCount: 3, amountSum: 42.5 } },
      { view: VIEW, entity: 'card-2', version: NOW - 5_000, values: { txnCount: 1, amountSum: 9.75 } },
    ]);
    const reader = createOnlineFeatureReader(redis, { keyPrefix, now: () => NOW });
    app = await controlWith(redisFeatureSource(reader, [VIEW]));
  });
  after(async () => {
    await app.close();
    const keys = await (redis as import('ioredis').Redis).keys(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('returns the stored rows in request order, with their age, and says which entities have none', async () => {
    const res = await lookup(app, VIEW, { entities: ['card-2', 'card-unknown', 'card-1'] });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      view: VIEW,
      rows: [
        {
          entity: 'card-2',
          found: true,
          values: { txnCount: 1, amountSum: 9.75 },
          version: NOW - 5_000,
          ageMs: 5_000,
        },
        { entity: 'card-unknown', found: false, values: null, version: null, ageMs: null },
        {
          entity: 'card-1',
          found: true,
          values: { txnCount: 3, amountSum: 42.5 },
          version: NOW - 30_000,
          ageMs: 30_000,
        },
      ],
    });
  });

  it('refuses a caller without a token, an unknown view and malformed bodies', async () => {
    assert.equal((await lookup(app, VIEW, { entities: ['card-1'] }, null)).statusCode, 401);
    const unknown = await lookup(app, 'card_txn_1n', { entities: ['card-1'] });
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.json().message, /defined views: card_txn_1m/);
    for (const body of [
      {},
      { entities: [] },
      { entities: [''] },
      { entities: ['card-1'], extra: true },
      { entities: Array.from({ length: 501 }, (_, i) => `card-${i}`) },
    ]) {
      const res = await lookup(app, VIEW, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body).slice(0, 60)} -> ${res.statusCode}`);
    }
  });

  it('answers 503 with the cause when Redis does not answer', async () => {
    const port = await freePort();
    const down = createRedisClient(
      { REDIS_URL: `redis://127.0.0.1:${port}` },
      { commandTimeoutMs: 300, connectTimeoutMs: 300, logger: { warn: () => undefined } as never },
    );
    const downApp = await controlWith(redisFeatureSource(createOnlineFeatureReader(down), [VIEW]));
    try {
      const res = await lookup(downApp, VIEW, { entities: ['card-1'] });
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().error, 'SOURCE_UNAVAILABLE');
      assert.match(res.json().message, /online store \(Redis\) did not answer/);
    } finally {
      await downApp.close();
      down.disconnect();
    }
  });
});
