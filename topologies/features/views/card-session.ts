/** Per-card shopping sessions (no gap above 30 minutes): how much a card does in one sitting. */
import { aggregate, count, mean, sum } from '../../../operators/aggregate/index.js';
import { session } from '../../../operators/windows/index.js';
import type { TxnEventRecord } from '../../../schemas/index.js';
import { featureView } from '../feature-view.js';
import { CARD_FEATURES_SOURCE } from './source.js';

export const cardSession = featureView({
  name: 'card_session',
  entity: 'cardId',
  features: { sessionTxnCount: 'double', sessionAmountSum: 'double', sessionAmountMean: 'double' },
  source: CARD_FEATURES_SOURCE,
  window: session('30m'),
  aggregate: aggregate({
    sessionTxnCount: count<TxnEventRecord>(),
    sessionAmountSum: sum((e: TxnEventRecord) => e.amount),
    sessionAmountMean: mean((e: TxnEventRecord) => e.amount),
  }),
  outOfOrderness: '5s',
  grace: '10s',
  ttl: '24h',
  owner: 'risk-ml',
  description: 'Per-card sessions of transactions at most 30 minutes apart: count, amount sum, mean.',
  tags: ['card', 'session'],
});
