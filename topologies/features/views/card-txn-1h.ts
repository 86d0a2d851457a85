/** Per-card activity over the last hour, refreshed every 5 minutes: the baseline the 1-minute burst is compared to. */
import { aggregate, count, mean, sum } from '../../../operators/aggregate/index.js';
import { hopping } from '../../../operators/windows/index.js';
import type { TxnEventRecord } from '../../../schemas/index.js';
import { featureView } from '../feature-view.js';
import { CARD_FEATURES_SOURCE } from './source.js';

export const cardTxn1h = featureView({
  name: 'card_txn_1h',
  entity: 'cardId',
  features: { txnCount1h: 'double', amountSum1h: 'double', amountMean1h: 'double' },
  source: CARD_FEATURES_SOURCE,
  window: hopping('1h', '5m'),
  aggregate: aggregate({
    txnCount1h: count<TxnEventRecord>(),
    amountSum1h: sum((e: TxnEventRecord) => e.amount),
    amountMean1h: mean((e: TxnEventRecord) => e.amount),
  }),
  outOfOrderness: '5s',
  grace: '10s',
  ttl: '6h',
  owner: 'risk-ml',
  description: 'Transactions per card in 1-hour windows advancing every 5 minutes: count, amount sum, mean.',
  tags: ['card', 'velocity'],
});
