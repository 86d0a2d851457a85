/** A valid transaction event: the good records the poison tests put around the bad ones. */
import type { TxnEventRecord } from '../../schemas/index.js';

export const txnEvent = (i: number, ts: number): TxnEventRecord => ({
  txnId: `t${i}`,
  cardId: `card-${i}`,
  accountId: 'acct-1',
  merchantId: 'm1',
  merchantCategory: '5411',
  amount: 10 + i,
  currency: 'EUR',
  country: 'DE',
  channel: 'POS',
  ts,
});
