/** Feature views as code: versions from the typed schema, fail-fast validation, diffs, table rows, SQL, labels. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Observable, Subject } from 'rxjs';
import { replacingMergeTreeDDL } from '../../connectors/clickhouse/index.js';
import { featureTableName, featureTableSpec, toTableRow } from '../../connectors/feature-sinks/index.js';
import { aggregate, count, max, sum } from '../../operators/aggregate/index.js';
import { tumbling } from '../../operators/windows/index.js';
import type { Element, PartitionContext, Stage } from '../../schemas/stream.js';
import { parseLabelsCsv, pointInTimeSql } from '../../services/training-set/index.js';
import { fanOut } from '../../topologies/features/fan-out.js';
import {
  featureView,
  FeatureViewError,
  type FeatureViewDefinition,
} from '../../topologies/features/feature-view.js';
import { diffViews, formatChanges } from '../../topologies/features/view-diff.js';
import { cardViews } from '../../topologies/features/views/index.js';

interface Ev {
  amount: number;
}

const base = (): FeatureViewDefinition<Ev, { n: 'double'; total: 'double' }> => ({
  name: 'test_view',
  entity: 'cardId',
  features: { n: 'double', total: 'double' },
  source: { topology: 'card-features', topic: 'txn.events' },
  window: tumbling('1m'),
  aggregate: aggregate({ n: count<Ev>(), total: sum((e: Ev) => e.amount) }),
  ttl: '1h',
  owner: 'team',
  description: 'test',
  tags: ['pii'],
});

describe('feature view versions', () => {
  it('a type change is a new version; metadata and feature order are not', () => {
    const v1 = featureView(base());
    const reordered = featureView({ ...base(), features: { total: 'double', n: 'double' } });
    const metadata = featureView({ ...base(), owner: 'other', description: 'changed', tags: [], ttl: '2h' });
    const typed = featureView({
      ...base(),
      features: { n: 'long', total: 'double' },
      aggregate: aggregate({ n: count<Ev>(), total: sum((e: Ev) => e.amount) }),
    });
    const rewindowed = featureView({ ...base(), window: tumbling('5m') });
    assert.match(v1.version, /^[0-9a-f]{8}$/);
    assert.equal(reordered.version, v1.version);
    assert.equal(metadata.version, v1.version);
    assert.notEqual(typed.version, v1.version);
    assert.notEqual(rewindowed.version, v1.version);
    assert.ok(v1.versionNumber >= 0 && v1.versionNumber < 2 ** 31);
    assert.notEqual(featureTableName(typed), featureTableName(v1), 'a new version gets its own table');
  });

  it('the reference views have distinct names and versions', () => {
    assert.equal(new Set(cardViews.map((v) => v.name)).size, 3);
    assert.equal(new Set(cardViews.map((v) => v.version)).size, 3);
  });
});

describe('feature view validation fails fast, naming the fix', () => {
  const bad: [string, () => unknown, RegExp][] = [
    [
      'bad name',
      () => featureView({ ...base(), name: 'Bad-Name' }),
      /lowercase letters, digits and underscores/,
    ],
    [
      'bad feature name',
      () =>
        featureView({
          ...base(),
          features: { 'a-b': 'double' } as never,
          aggregate: aggregate({ 'a-b': count() }) as never,
        }),
      /feature name "a-b"/,
    ],
    [
      'reserved feature',
      () =>
        featureView({
          ...base(),
          features: { entity: 'double' } as never,
          aggregate: aggregate({ entity: count() }) as never,
        }),
      /reserved/,
    ],
    [
      'bad type',
      () => featureView({ ...base(), features: { n: 'string', total: 'double' } as never }),
      /use one of double/,
    ],
    [
      'aggregate mismatch',
      () =>
        featureView({
          ...base(),
          aggregate: aggregate({ n: count<Ev>(), other: max((e: Ev) => e.amount) }) as never,
        }),
      /aggregate produces \[n, other\] but features declare \[n, total\]/,
    ],
    ['bad ttl', () => featureView({ ...base(), ttl: 'soon' }), /ttl/],
    ['no owner', () => featureView({ ...base(), owner: ' ' }), /owner/],
    ['bad tag', () => featureView({ ...base(), tags: ['PII!'] }), /tag/],
    ['bad source', () => featureView({ ...base(), source: { topology: 'X', topic: '' } }), /source must be/],
  ];
  for (const [what, make, message] of bad) {
    it(what, () => assert.throws(make, (err: Error) => err instanceof Error && message.test(err.message)));
  }
  it('errors are FeatureViewErrors where the view is at fault', () => {
    assert.throws(() => featureView({ ...base(), owner: '' }), FeatureViewError);
  });
});

describe('view diffs', () => {
  it('lists added, removed and changed features and fields', () => {
    const a = featureView(base());
    const b = featureView({
      ...base(),
      features: { n: 'long', mx: 'double' },
      aggregate: aggregate({ n: count<Ev>(), mx: max((e: Ev) => e.amount) }),
      owner: 'other',
    });
    const lines = formatChanges(diffViews(a, b));
    assert.ok(lines.includes('+ feature mx: double'), lines.join('\n'));
    assert.ok(lines.includes('- feature total: double'));
    assert.ok(lines.includes('~ feature n: double -> long'));
    assert.ok(lines.includes('~ owner: team -> other'));
    assert.deepEqual(formatChanges(diffViews(a, a)), ['(no differences)']);
  });
});

describe('offline table rows', () => {
  const view = featureView(base());
  it('DDL is a ReplacingMergeTree keyed on entity and window start, versioned by event time', () => {
    const ddl = replacingMergeTreeDDL(featureTableSpec(view));
    assert.match(ddl, /ENGINE = ReplacingMergeTree\(version\) ORDER BY \(entity, window_start\)/);
    assert.match(ddl, /n Nullable\(Float64\), total Nullable\(Float64\)/);
    assert.doesNotMatch(ddl, /DateTime64|Map\(/, '18.16 has neither');
  });
  it('missing features are NULL; undeclared ones are refused', () => {
    const row = {
      view: view.name,
      viewVersion: view.versionNumber,
      entity: 'c',
      windowStart: 0,
      windowEnd: 60_000,
      eventTime: 60_000,
    };
    assert.deepEqual(toTableRow(view, { ...row, features: { n: 2 } }), {
      entity: 'c',
      window_start: 0,
      window_end: 60_000,
      event_time: 60_000,
      version: 60_000,
      view_version: view.versionNumber,
      n: 2,
      total: null,
    });
    assert.throws(() => toTableRow(view, { ...row, features: { bogus: 1 } }), /does not declare/);
  });
});

describe('point-in-time SQL', () => {
  const q = { labelsTable: 'labels', views: [{ table: 'fv_a_v1', features: ['x'] }] };
  it('ASOF form keeps window_end <= ts', () => {
    assert.match(
      pointInTimeSql({ ...q, dialect: 'asof' }),
      /ASOF LEFT JOIN .* ON l\.entity = v0\.fv_entity AND l\.ts >= v0\.fv_we/,
    );
  });
  it('legacy form has no ASOF, filters window_end <= ts and takes the latest', () => {
    const sql = pointInTimeSql({ ...q, dialect: 'legacy' });
    assert.doesNotMatch(sql, /ASOF/);
    assert.match(sql, /WHERE fv_we <= ts/);
    assert.match(sql, /argMax\(ifNull\(toFloat64\(fv_f0\), nan\), fv_we\)/);
  });
  it('refuses identifiers that could inject SQL', () => {
    assert.throws(
      () => pointInTimeSql({ labelsTable: 'x; DROP', views: q.views, dialect: 'asof' }),
      /table name/,
    );
  });
});

describe('label files', () => {
  it('reads epoch ms and ISO times, quoted cells, and names the bad line', () => {
    const rows = parseLabelsCsv('entity,ts,label\n"c,1",1000,1\nc2,1970-01-01T00:00:02Z,0\n');
    assert.deepEqual(rows, [
      { entity: 'c,1', ts: 1000, label: '1' },
      { entity: 'c2', ts: 2000, label: '0' },
    ]);
    assert.throws(
      () => parseLabelsCsv('entity,ts,label\nc,yesterday,1\n', undefined, 'f.csv'),
      /f\.csv line 2: ts "yesterday"/,
    );
    assert.throws(() => parseLabelsCsv('id,ts,label\n'), /no column "entity".*--entity-col/);
  });
});

describe('fanOut barrier alignment', () => {
  it('forwards a barrier only after every branch forwarded it, records first', () => {
    const ctx = {} as PartitionContext;
    // Branch "late" holds records and barriers back until released, as a slow branch would.
    const held: Element<string>[] = [];
    let release: (() => void) | undefined;
    const slow: Stage<string, string> = () => (source) =>
      new Observable<Element<string>>((sub) => {
        release = () =>
          held
            .splice(0)
            .forEach((e) => sub.next(e.kind === 'record' ? { ...e, value: `slow:${e.value}` } : e));
        return source.subscribe((e) => held.push(e));
      });
    const fast: Stage<string, string> = () => (source) => source;
    const input = new Subject<Element<string>>();
    const out: string[] = [];
    fanOut([fast, slow])(ctx)(input).subscribe((e) =>
      out.push(e.kind === 'record' ? e.value : `barrier${e.id}`),
    );
    const rec = (value: string): Element<string> => ({
      kind: 'record',
      value,
      key: 'k',
      eventTime: 0,
      headers: {},
      source: { topic: 't', partition: 0, offset: '0', timestamp: 0 },
    });
    input.next(rec('a'));
    input.next({ kind: 'barrier', id: 1, partition: 0, nextOffset: '1' });
    assert.deepEqual(out, ['a'], 'the barrier waits for the slow branch');
    release!();
    assert.deepEqual(out, ['a', 'slow:a', 'barrier1']);
  });
});
