/** Card transactions for the feature-topology tests, and what their 1-minute windows must hold. */
import assert from 'node:assert/strict';
import type { Message } from 'kafkajs';
import type { TxnEventRecord } from '../../schemas/index.js';

/** An hour boundary four hours ago: old enough that every window closes, recent enough for retention. */
export const hoursAgo = (): number => Math.floor((Date.now() - 4 * 3_600_000) / 3_600_000) * 3_600_000;

/** `count` events over `cards` cards, `stepMs` apart from t0 (increasing: nothing is late). */
export function cardTxns(
  count: number,
  { cards, t0, stepMs, amountStep = 53, amountRange = 700 }: CardTxnShape,
): TxnEventRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    txnId: `t${i}`,
    cardId: `card-${i % cards}`,
    accountId: `a${i % cards}`,
    merchantId: `m${i % 7}`,
    merchantCategory: '5411',
    amount: 1 + ((i * amountStep) % amountRange),
    currency: 'EUR',
    country: 'DE',
    channel: 'POS',
    ts: t0 + i * stepMs,
  }));
}

export interface CardTxnShape {
  readonly cards: number;
  readonly t0: number;
  readonly stepMs: number;
  readonly amountStep?: number;
  readonly amountRange?: number;
}

/**
 * One event per partition, 3 h after t0: far enough ahead to close every window the others opened (1 h
 * hops, 30 min sessions). Their own cards (`flush-<p>`) keep open windows.
 */
export async function windowClosers(
  template: TxnEventRecord,
  partitions: number,
  serialize: (e: TxnEventRecord) => Buffer | Promise<Buffer>,
): Promise<Message[]> {
  const closers: Message[] = [];
  for (let p = 0; p < partitions; p += 1) {
    const e = { ...template, txnId: `flush-${p}`, cardId: `flush-${p}`, ts: template.ts + 3 * 3_600_000 };
    closers.push({ partition: p, key: e.cardId, value: await serialize(e) });
  }
  return closers;
}

/** Count and amount sum per `card@windowStart` of the 1-minute windows, by brute force. */
export function minuteTotals(events: readonly TxnEventRecord[]): Map<string, { n: number; sum: number }> {
  const totals = new Map<string, { n: number; sum: number }>();
  for (const e of events) {
    const k = `${e.cardId}@${Math.floor(e.ts / 60_000) * 60_000}`;
    const agg = totals.get(k) ?? { n: 0, sum: 0 };
    agg.n += 1;
    agg.sum += e.amount;
    totals.set(k, agg);
  }
  return totals;
}

export type TableRow = Record<string, string | number>;

/** The card_txn_1m rows (FINAL) hold each window of the events exactly once, with its count and sum. */
export function assertMinuteWindows(rows: readonly TableRow[], events: readonly TxnEventRecord[]): void {
  const minute = minuteTotals(events);
  assert.equal(rows.length, minute.size, 'every 1-minute window stored exactly once');
  for (const r of rows) {
    const want = minute.get(`${r.entity}@${Number(r.window_start)}`);
    assert.ok(want, `unexpected window ${r.entity}@${r.window_start}`);
    assert.equal(Number(r.txnCount1m), want.n, `count of ${r.entity}@${r.window_start}`);
    assert.equal(Number(r.amountSum1m), want.sum, `sum of ${r.entity}@${r.window_start}`);
  }
}
