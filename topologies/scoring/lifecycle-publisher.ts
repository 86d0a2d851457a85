/**
 * Wires FileModelRegistry's onLifecycleEvent to the `sluice.model-lifecycle` topic, so every scoring
 * worker hears about registrations, promotions and rollbacks. Keyed by model name: one model's events
 * stay in order. JSON of the Avro ModelLifecycleEvent record (schemas/ModelLifecycleEvent.avsc).
 */
import type { Producer } from 'kafkajs';
import type {
  LifecycleEventHandler,
  ModelLifecycleEvent,
} from '../../connectors/model-registry/lifecycle-event.js';
import { toLifecycleEventRecord } from '../../connectors/model-registry/lifecycle-event.js';
import type { ModelLifecycleEventRecord } from '../../schemas/index.js';

export const MODEL_LIFECYCLE_TOPIC = 'sluice.model-lifecycle';

export function lifecycleEventPublisher(
  producer: Pick<Producer, 'send'>,
  options: { actor: string; topic?: string },
): LifecycleEventHandler {
  const topic = options.topic ?? MODEL_LIFECYCLE_TOPIC;
  return async (event: ModelLifecycleEvent) => {
    const record = toLifecycleEventRecord(event, options.actor);
    // acks=-1: FileModelRegistry reports a failure to publish, and the operator re-runs the change.
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: event.name, value: JSON.stringify(record), timestamp: String(record.ts) }],
    });
  };
}

export function parseLifecycleEvent(value: Buffer | null): ModelLifecycleEventRecord | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value.toString('utf8')) as ModelLifecycleEventRecord;
    return typeof parsed?.model === 'string' && typeof parsed.modelVersion === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
