/** The audit log's hash chain: records append and verify; any edit, insertion or deletion is detected. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog, AuditLogCorruptError, verifyAuditLog } from '../../services/common/index.js';

describe('audit log', () => {
  let dir: string;
  let file: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sluice-audit-'));
    file = path.join(dir, 'nested', 'audit.log');
    const log = await AuditLog.open(file);
    // Concurrent calls must still chain in order.
    await Promise.all([
      log.record({
        actor: 'otto',
        action: 'model.promote',
        target: 'model:fraud@2',
        details: { stage: 'champion' },
      }),
      log.record({ actor: 'otto', action: 'model.rollback', target: 'model:fraud', details: { to: '1' } }),
      log.record({
        actor: 'ada',
        action: 'topology.deploy',
        target: 'topology:scoring',
        details: { n: 1.5 },
      }),
    ]);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const lines = async () => (await readFile(file, 'utf8')).trimEnd().split('\n');

  it('writes one chained JSON line per record with actor, timestamp and seq', async () => {
    const records = (await lines()).map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((r) => [r.seq, r.actor, r.action]),
      [
        [1, 'otto', 'model.promote'],
        [2, 'otto', 'model.rollback'],
        [3, 'ada', 'topology.deploy'],
      ],
    );
    assert.equal(records[0].prev, '0'.repeat(64));
    assert.equal(records[1].prev, records[0].hash);
    assert.equal(records[2].prev, records[1].hash);
    assert.ok(records.every((r) => !Number.isNaN(Date.parse(r.ts))));
    assert.deepEqual(await verifyAuditLog(file), { ok: true, records: 3, lastHash: records[2].hash });
  });

  it('continues the chain after reopening', async () => {
    const log = await AuditLog.open(file);
    const rec = await log.record({ actor: 'ada', action: 'model.promote', target: 'model:x@1' });
    assert.equal(rec.seq, 4);
    const verdict = await verifyAuditLog(file);
    assert.equal(verdict.ok, true);
    assert.equal(verdict.records, 4);
  });

  it('detects an edited line, a deleted line and a forged hash', async () => {
    const original = await lines();
    const copy = path.join(dir, 'tampered.log');
    const write = (ls: string[]) => writeFile(copy, ls.join('\n') + '\n');

    await write(original.map((l, i) => (i === 1 ? l.replace('"to":"1"', '"to":"0"') : l)));
    assert.deepEqual(await verifyAuditLog(copy), {
      ok: false,
      records: 1,
      line: 2,
      reason: 'hash does not match the line content (line was edited)',
    });

    await write(original.filter((_, i) => i !== 1));
    const deleted = await verifyAuditLog(copy);
    assert.equal(deleted.ok, false);
    assert.equal(!deleted.ok && deleted.line, 2);

    // Rewriting a line and recomputing its own hash still breaks the next line's prev.
    const edited = JSON.parse(original[0]!);
    edited.actor = 'mallory';
    const { hash: _drop, ...body } = edited;
    const { createHash } = await import('node:crypto');
    const bodyText = JSON.stringify(body);
    const forged = `${bodyText.slice(0, -1)},"hash":"${createHash('sha256').update(bodyText).digest('hex')}"}`;
    await write([forged, ...original.slice(1)]);
    const chain = await verifyAuditLog(copy);
    assert.equal(chain.ok, false);
    assert.equal(!chain.ok && chain.line, 2);
    assert.match(!chain.ok ? chain.reason : '', /prev does not match/);

    await assert.rejects(AuditLog.open(copy), AuditLogCorruptError);
  });
});
