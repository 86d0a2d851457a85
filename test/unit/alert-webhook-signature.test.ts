/** Webhook signatures: a receiver accepts exactly the body we signed, recently, with a secret it knows. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signWebhook, verifyWebhook } from '../../services/alerts/webhook-signature.js';

const SECRET = 'a'.repeat(32) + 'secret-one';
const OTHER = 'b'.repeat(32) + 'secret-two';
const BODY = JSON.stringify({ alertId: 'x1', title: 'Guard rail rolled back fraud to 3' });
const NOW = Date.UTC(2026, 10, 24, 7, 0, 0);

test('the header is t=<unix seconds>,v1=<HMAC-SHA256 of "t.body">, computable by any receiver', () => {
  const header = signWebhook([SECRET], BODY, NOW);
  const t = Math.floor(NOW / 1000);
  const expected = createHmac('sha256', SECRET).update(`${t}.${BODY}`).digest('hex');
  assert.equal(header, `t=${t},v1=${expected}`);
});

test('verifies the signed body; refuses a changed body, another secret, a missing or broken header', () => {
  const header = signWebhook([SECRET], BODY, NOW);
  assert.deepEqual(verifyWebhook([SECRET], header, BODY, { nowMs: NOW }), {
    ok: true,
    timestamp: Math.floor(NOW / 1000),
  });
  const tampered = verifyWebhook([SECRET], header, BODY.replace('3', '4'), { nowMs: NOW });
  assert.equal(tampered.ok, false);
  assert.equal(verifyWebhook([OTHER], header, BODY, { nowMs: NOW }).ok, false);
  assert.match(
    String((verifyWebhook([SECRET], undefined, BODY) as { reason: string }).reason),
    /no sluice-signature/,
  );
  const noSig = verifyWebhook([SECRET], `t=${Math.floor(NOW / 1000)}`, BODY, { nowMs: NOW });
  assert.match((noSig as { reason: string }).reason, /no v1=/);
  const noTime = verifyWebhook([SECRET], header.replace(/^t=\d+,/, ''), BODY, { nowMs: NOW });
  assert.match((noTime as { reason: string }).reason, /no timestamp/);
});

test('a replayed delivery older than the tolerance is refused, one inside it is accepted', () => {
  const header = signWebhook([SECRET], BODY, NOW);
  assert.equal(verifyWebhook([SECRET], header, BODY, { nowMs: NOW + 299_000 }).ok, true);
  const late = verifyWebhook([SECRET], header, BODY, { nowMs: NOW + 301_000 });
  assert.equal(late.ok, false);
  assert.match((late as { reason: string }).reason, /301 s off, more than the 300 s tolerance/);
  assert.equal(
    verifyWebhook([SECRET], header, BODY, { nowMs: NOW + 301_000, toleranceSeconds: 600 }).ok,
    true,
  );
});

test('secret rotation: signed with new and old, accepted by receivers that know either', () => {
  const header = signWebhook([OTHER, SECRET], BODY, NOW);
  assert.equal(header.split(',').length, 3);
  assert.equal(verifyWebhook([SECRET], header, BODY, { nowMs: NOW }).ok, true);
  assert.equal(verifyWebhook([OTHER], header, BODY, { nowMs: NOW }).ok, true);
  assert.equal(verifyWebhook(['c'.repeat(40)], header, BODY, { nowMs: NOW }).ok, false);
});
