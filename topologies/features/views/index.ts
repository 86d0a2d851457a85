/** Every feature view of the reference deployment; the view registry lists exactly these. */
import { cardSession } from './card-session.js';
import { cardTxn1h } from './card-txn-1h.js';
import { cardTxn1m } from './card-txn-1m.js';

export { cardSession, cardTxn1h, cardTxn1m };
export const cardViews = [cardTxn1m, cardTxn1h, cardSession] as const;
