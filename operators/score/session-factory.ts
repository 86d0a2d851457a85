/**
 * How the scorer opens ONNX Runtime sessions. One intra-op thread: on the 2-core hosts this runs on, more
 * threads fight the event loop and the other workers for the same cores (see DESIGN.md, Models).
 */
import * as ort from 'onnxruntime-node';

/** The part of an ORT session the scorer uses; lets selection and batching be tested with a stand-in. */
export type ScoringSession = Pick<
  ort.InferenceSession,
  'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata' | 'run' | 'release'
>;

export type SessionFactory<S = ScoringSession> = (modelBytes: Uint8Array, provider: string) => Promise<S>;

export interface OrtSessionOptions {
  readonly intraOpNumThreads?: number;
}

// ORT's native logger prints a failed CUDA probe as an error line on stderr; the selection logic already
// reports it (log line, metric). Only fatal native messages by default; SLUICE_ORT_LOG_LEVEL overrides.
ort.env.logLevel = (process.env.SLUICE_ORT_LOG_LEVEL as typeof ort.env.logLevel | undefined) ?? 'fatal';

export function ortSessionFactory(options: OrtSessionOptions = {}): SessionFactory {
  return (modelBytes, provider) =>
    ort.InferenceSession.create(modelBytes, {
      executionProviders: [provider],
      intraOpNumThreads: options.intraOpNumThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Fatal only: a failed CUDA probe is reported by the selection logic, not as a native error line.
      logSeverityLevel: 4,
    });
}

export const float32Tensor = (data: Float32Array, dims: readonly number[]) =>
  new ort.Tensor('float32', data, dims);
