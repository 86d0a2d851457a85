/** The topology and topic every card view is computed from (see topologies/features/card-features.ts). */
export const CARD_FEATURES_SOURCE = { topology: 'card-features', topic: 'txn.events' } as const;
