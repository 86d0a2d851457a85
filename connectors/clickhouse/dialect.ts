/**
 * What SQL the connected ClickHouse understands, from `SELECT version()`. chdb 3.4 embeds a current
 * engine; Debian's server is 18.16, which lacks most of what came after 2018 (measured: query params,
 * DateTime64, Map, ASOF JOIN, TTL, insert_deduplication_token, async_insert and window functions all
 * fail, and "ASOF" is silently read as a table alias). The minimum versions below are the release that
 * made each feature usable without experimental flags, rounded up where unsure: a false negative only
 * costs a fallback query, a false positive costs a wrong answer.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export interface ClickHouseFeatures {
  readonly queryParams: boolean;
  readonly dateTime64: boolean;
  readonly map: boolean;
  readonly asofJoin: boolean;
  readonly ttl: boolean;
  readonly windowFunctions: boolean;
  readonly asyncInsert: boolean;
  readonly insertDeduplicationToken: boolean;
}

export interface ClickHouseDialect {
  readonly version: string;
  readonly major: number;
  readonly minor: number;
  /** True for servers older than every feature above (e.g. 18.16): stick to 2018-era SQL. */
  readonly legacy: boolean;
  readonly features: ClickHouseFeatures;
}

const MINIMUM_VERSION: Readonly<Record<keyof ClickHouseFeatures, readonly [number, number]>> = {
  ttl: [19, 6],
  asofJoin: [19, 13],
  queryParams: [19, 13],
  dateTime64: [20, 1],
  asyncInsert: [21, 11],
  windowFunctions: [21, 12],
  map: [21, 12],
  insertDeduplicationToken: [22, 2],
};

export function dialectFromVersion(version: string): ClickHouseDialect {
  const match = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!match) throw new Error(`cannot read a ClickHouse version from "${version}"; expected e.g. "18.16.1"`);
  const major = Number(match[1]);
  const minor = Number(match[2]);
  const atLeast = ([wantMajor, wantMinor]: readonly [number, number]) =>
    major > wantMajor || (major === wantMajor && minor >= wantMinor);
  const features = Object.fromEntries(
    Object.entries(MINIMUM_VERSION).map(([name, min]) => [name, atLeast(min)]),
  ) as unknown as ClickHouseFeatures;
  return {
    version: version.trim(),
    major,
    minor,
    legacy: Object.values(features).every((f) => !f),
    features,
  };
}

const detected = new WeakMap<ClickHouseClient, Promise<ClickHouseDialect>>();

/** Asks the server once per client and remembers the answer. */
export function detectDialect(client: ClickHouseClient): Promise<ClickHouseDialect> {
  let dialect = detected.get(client);
  if (!dialect) {
    dialect = (async () => {
      const result = await client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' });
      const rows = await result.json<{ version: string }>();
      const version = rows[0]?.version;
      if (typeof version !== 'string') throw new Error('SELECT version() returned no version');
      return dialectFromVersion(version);
    })();
    // A failed probe (server down) must not be remembered.
    dialect.catch(() => detected.delete(client));
    detected.set(client, dialect);
  }
  return dialect;
}
