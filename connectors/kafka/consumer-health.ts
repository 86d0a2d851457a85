/**
 * Liveness and readiness of a service that runs one kafkajs consumer (the alert dispatcher, the trainer),
 * for its /healthz and /readyz: read from the consumer's own events, so no service keeps its own copy.
 */
import type { Consumer } from 'kafkajs';

export interface ConsumerHealth {
  /** True once the consumer crashed past kafkajs' own restarts: the process should be restarted. */
  readonly crashedForGood: boolean;
  /** True once the consumer has joined its group (kafkajs rejoins by itself after a rebalance). */
  readonly joined: boolean;
}

export function watchConsumerHealth(consumer: Consumer): ConsumerHealth {
  let joined = false;
  let crashedForGood = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  consumer.on(consumer.events.CRASH, (e) => {
    if (!e.payload.restart) crashedForGood = true;
  });
  return {
    get crashedForGood() {
      return crashedForGood;
    },
    get joined() {
      return joined;
    },
  };
}
