import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MigrationError, checkMigrations } from '../../connectors/clickhouse/migrations.js';
import { replacingMergeTreeDDL } from '../../connectors/clickhouse/replacing-merge-tree.js';
import {
  clickHouseErrorCode,
  isTransientClickHouseError,
} from '../../connectors/clickhouse/transient-errors.js';

describe('migration list checks', () => {
  it('orders by version', () => {
    const ordered = checkMigrations([
      { version: 3, name: 'c', up: ['SELECT 3'] },
      { version: 1, name: 'a', up: ['SELECT 1'] },
    ]);
    assert.deepEqual(
      ordered.map((m) => m.version),
      [1, 3],
    );
  });

  it('rejects duplicate, non-integer and unnamed migrations', () => {
    assert.throws(
      () =>
        checkMigrations([
          { version: 1, name: 'a', up: [] },
          { version: 1, name: 'b', up: [] },
        ]),
      /share version 1/,
    );
    assert.throws(() => checkMigrations([{ version: 1.5, name: 'a', up: [] }]), MigrationError);
    assert.throws(() => checkMigrations([{ version: 2, name: ' ', up: [] }]), /non-empty name/);
    assert.throws(() => checkMigrations([{ version: 2, name: 'x', up: [''] }]), /non-empty SQL/);
  });
});

describe('ReplacingMergeTree DDL', () => {
  it('refuses keys that are not columns', () => {
    assert.throws(
      () =>
        replacingMergeTreeDDL({
          table: 't',
          columns: [['entity', 'String']],
          orderBy: ['entity'],
          versionColumn: 'version',
        }),
      /"version" is used as a key or version but is not one of the columns/,
    );
  });
});

describe('ClickHouse error classification', () => {
  it('reads the code from modern and 18.16 errors', () => {
    assert.equal(clickHouseErrorCode(Object.assign(new Error('x'), { code: '252' })), 252);
    assert.equal(clickHouseErrorCode(new Error('Code: 60, e.displayText() = DB::Exception: Table x')), 60);
    assert.equal(clickHouseErrorCode(new Error('Code: 62. DB::Exception: Syntax error')), 62);
  });

  it('retries network and overload errors only', () => {
    assert.equal(
      isTransientClickHouseError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })),
      true,
    );
    assert.equal(isTransientClickHouseError(new Error('Code: 252, e.displayText() = Too many parts')), true);
    assert.equal(isTransientClickHouseError(new Error('Timeout error.')), true);
    // With insert_quorum set in a writer's profile: another writer's quorum insert is still under way.
    assert.equal(
      isTransientClickHouseError(
        new Error(
          'Code: 286, e.displayText() = DB::Exception: Quorum for previous write has not been satisfied yet',
        ),
      ),
      true,
    );
    assert.equal(
      isTransientClickHouseError(new Error('Code: 60, e.displayText() = Table x does not exist')),
      false,
    );
    assert.equal(isTransientClickHouseError(Object.assign(new Error('syntax'), { code: '62' })), false);
  });
});
