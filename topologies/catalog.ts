/**
 * The topologies this deployment ships, by name: what `sluice run NAME` starts and `sluice deploy`
 * prepares. Builders are lazy so that naming one topology never connects to what another needs.
 */
import type { Topology } from './builder.js';
import { referenceCardFeatures } from './features/reference.js';
import { CARD_FEATURES_SOURCE } from './features/views/source.js';

export interface ShippedTopology {
  readonly name: string;
  readonly description: string;
  readonly sourceTopic: string;
  build(): Topology | Promise<Topology>;
}

export const shippedTopologies: readonly ShippedTopology[] = [
  {
    name: 'card-features',
    description: 'per-card counts, sums and means over 1 min, 1 h and session windows -> Redis + ClickHouse',
    sourceTopic: CARD_FEATURES_SOURCE.topic,
    build: () => referenceCardFeatures(),
  },
];

export class UnknownTopologyError extends Error {
  override readonly name = 'UnknownTopologyError';
}

export function shippedTopology(name: string): ShippedTopology {
  const found = shippedTopologies.find((t) => t.name === name);
  if (!found) {
    throw new UnknownTopologyError(
      `no topology named "${name}"; shipped: ${shippedTopologies.map((t) => t.name).join(', ')}`,
    );
  }
  return found;
}
