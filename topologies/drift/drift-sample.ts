/**
 * A prediction reduced to what drift needs: its model version, event time and the bin of each monitored
 * value on the reference profile. Samples travel on an internal topic keyed by model@version, so every
 * sample of one model version lands on one partition and its windows see the whole population (the
 * predictions topic is keyed by entity, which would split a model's histogram across partitions).
 */
import type { Prediction } from '../../connectors/experiments/prediction.js';
import type { StreamRecord } from '../../schemas/stream.js';
import { MISSING_BIN, type ModelLayouts } from './bin-layout.js';

export interface DriftSample {
  readonly model: string;
  readonly modelVersion: string;
  readonly eventTime: number;
  /** Feature -> bin index on the reference profile, or -1 (MISSING_BIN) when the value is missing. */
  readonly bins: Readonly<Record<string, number>>;
  /** Bin of the score on the prediction profile; null when the model has no prediction profile. */
  readonly score: number | null;
}

/** The window key: model names and versions cannot contain '@' (registry name rule). */
export const modelKey = (model: string, modelVersion: string): string => `${model}@${modelVersion}`;

export function parseModelKey(key: string): { model: string; modelVersion: string } {
  const at = key.indexOf('@');
  if (at <= 0 || at === key.length - 1 || key.indexOf('@', at + 1) !== -1) {
    throw new Error(`"${key}" is not a model@version key`);
  }
  return { model: key.slice(0, at), modelVersion: key.slice(at + 1) };
}

export function toDriftSample(p: Prediction, layouts: ModelLayouts): DriftSample {
  const features = p.features ?? {};
  const bins: Record<string, number> = {};
  for (const [name, layout] of layouts.features) {
    bins[name] = Object.prototype.hasOwnProperty.call(features, name)
      ? layout.bin(features[name])
      : MISSING_BIN;
  }
  return {
    model: p.model,
    modelVersion: p.modelVersion,
    eventTime: p.eventTime,
    bins,
    score: layouts.score ? layouts.score.bin(p.score) : null,
  };
}

export const serializeDriftSample = (record: StreamRecord<DriftSample>): Buffer =>
  Buffer.from(JSON.stringify(record.value));

const isBin = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= MISSING_BIN;

/** Decoder of the samples topic; a malformed payload is a coded error, so decode() dead-letters it. */
export const driftSampleDecoder = {
  deserialize(payload: Buffer): DriftSample {
    let v: Partial<DriftSample>;
    try {
      v = JSON.parse(payload.toString('utf8')) as Partial<DriftSample>;
    } catch (err) {
      throw Object.assign(new Error(`drift sample is not JSON: ${(err as Error).message}`), {
        code: 'DRIFT_SAMPLE_INVALID',
      });
    }
    const ok =
      v !== null &&
      typeof v === 'object' &&
      typeof v.model === 'string' &&
      typeof v.modelVersion === 'string' &&
      Number.isSafeInteger(v.eventTime) &&
      typeof v.bins === 'object' &&
      v.bins !== null &&
      Object.values(v.bins).every(isBin) &&
      (v.score === null || isBin(v.score));
    if (!ok) {
      throw Object.assign(new Error('drift sample lacks model, modelVersion, eventTime, bins or score'), {
        code: 'DRIFT_SAMPLE_INVALID',
      });
    }
    return v as DriftSample;
  },
};
