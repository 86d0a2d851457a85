/** Per-card activity over the last minute: bursts of small transactions are a classic card-testing signal. */
import { aggregate, count, mean, sum } from '../../../operators/aggregate/index.js';
import { tumbling } from '../../../operators/windows/index.js';
import type { TxnEventRecord } from '../../../schemas/index.js';
import { featureView } from '../feature-view.js';
import { CARD_FEATURES_SOURCE } from './source.js';

export const cardTxn1m = featureView({
  name: 'card_txn_1m',
  entity: 'cardId',
  features: { txnCount1m: 'double', amountSum1m: 'double', amountMean1m: 'double' },
  source: CARD_FEATURES_SOURCE,
  window: tumbling('1m'),
  aggregate: aggregate({
    txnCount1m: count<TxnEventRecord>(),
    amountSum1m: sum((e: TxnEventRecord) => e.amount),
    amountMean1m: mean((e: TxnEventRecord) => e.amount),
  }),
  outOfOrderness: '5s',
  grace: '10s',
  ttl: '2h',
  owner: 'risk-ml',
  description: 'Transactions per card in 1-minute tumbling windows: count, amount sum and mean amount.',
  tags: ['card', 'velocity'],
});
