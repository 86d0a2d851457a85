import type { ModelLifecycleEventRecord } from '../../schemas/types.generated.js';
import type { ModelStage } from './model-metadata.js';

/** Published on every registration and stage change; scoring workers hot-swap on these. */
export interface ModelLifecycleEvent {
  readonly eventId: string;
  readonly type: 'registered' | 'stage_changed';
  readonly name: string;
  readonly version: string;
  readonly from: ModelStage | null;
  readonly to: ModelStage;
  readonly reason: string;
  readonly at: string;
  readonly sha256: string;
  /** Absolute path of the model.onnx this event is about. */
  readonly artifactUri: string;
  readonly features: readonly string[];
  readonly trainingMetrics: Readonly<Record<string, number>>;
}

export type LifecycleEventHandler = (event: ModelLifecycleEvent) => void | Promise<void>;

/** The Avro record (schemas/ModelLifecycleEvent.avsc) for the lifecycle topic. */
export function toLifecycleEventRecord(event: ModelLifecycleEvent, actor: string): ModelLifecycleEventRecord {
  const upper = (s: ModelStage) => s.toUpperCase() as ModelLifecycleEventRecord['toStage'];
  return {
    eventId: event.eventId,
    model: event.name,
    modelVersion: event.version,
    fromStage: event.type === 'registered' ? 'REGISTERED' : event.from === null ? null : upper(event.from),
    toStage: upper(event.to),
    artifactUri: event.artifactUri,
    sha256: event.sha256,
    features: [...event.features],
    metrics: { ...event.trainingMetrics },
    actor,
    reason: event.reason,
    ts: Date.parse(event.at),
  };
}
