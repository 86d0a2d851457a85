/**
 * One retrain: a retrain request -> the served-and-labelled training set -> logistic regression -> ONNX ->
 * a new registry version in stage 'shadow' (scored alongside, never served until a human promotes it).
 *
 * Idempotent by request id: a version records the request that produced it (trainedFor.requestId), and a
 * request already answered returns that version without training, so a redelivered request (at-least-once
 * consumption) never creates a second version.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { FileModelRegistry } from '../../../connectors/model-registry/file-model-registry.js';
import type { ModelCandidate, ModelMetadata } from '../../../connectors/model-registry/model-metadata.js';
import type { RetrainRequestRecord } from '../../../schemas/index.js';
import { datasetHash, sha256Hex } from '../build-reference-model.js';
import type { TrainOptions } from '../logistic-regression.js';
import { classifierMetricsRecord, evaluateClassifier, predictAll, rocAuc } from '../logistic-regression.js';
import { INPUT_NAME, OUTPUT_NAME } from '../onnx/feature-metadata.js';
import { buildLogisticRegressionOnnx } from '../onnx/logistic-regression-onnx.js';
import { buildReferenceProfile } from '../reference-profile.js';
import type { Dataset, FeatureKind } from '../synthetic-data.js';
import { splitHoldout } from '../synthetic-data.js';
import type { LoggedTrainingSet } from './logged-training-set.js';
import { trainOffThread } from './train-off-thread.js';
import { DEFAULT_WINDOW_MS, loadLoggedTrainingSet, resolveTrainingWindow } from './logged-training-set.js';

export const DEFAULT_MIN_ROWS = 500;

export type RetrainRefusalCode = 'UNKNOWN_MODEL' | 'TOO_FEW_ROWS' | 'ONE_CLASS';

/** A request that retrying cannot satisfy (the data or the registry would have to change first). */
export class RetrainRefusedError extends Error {
  override readonly name = 'RetrainRefusedError';
  constructor(
    readonly code: RetrainRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RetrainDeps {
  readonly registry: Pick<FileModelRegistry, 'list' | 'register'>;
  readonly clickhouse: Pick<ClickHouseClient, 'query'>;
}

export interface RetrainOptions {
  /** Fewest usable labelled rows to train on (default 500). */
  readonly minRows?: number;
  /** Most rows read from ClickHouse (default 200k). */
  readonly maxRows?: number;
  /** Window length when the request names no start (default 7 days). */
  readonly windowMs?: number;
  readonly holdoutFraction?: number;
  readonly train?: TrainOptions;
  readonly predictionsTable?: string;
  readonly labelsTable?: string;
}

export type RetrainResult =
  | {
      readonly outcome: 'trained';
      readonly version: string;
      readonly metadata: ModelMetadata;
      readonly basedOn: string;
      readonly trainingSet: Omit<LoggedTrainingSet, 'dataset' | 'servedScores'> & { readonly rows: number };
    }
  | { readonly outcome: 'duplicate'; readonly version: string; readonly metadata: ModelMetadata };

/** Highest numeric version + 1 (non-numeric versions such as "exp-3" are ignored). */
export function nextVersion(versions: readonly string[]): string {
  let highest = 0;
  for (const v of versions) if (/^\d+$/.test(v)) highest = Math.max(highest, Number(v));
  return String(highest + 1);
}

/** The version an earlier delivery of this request produced, if any. */
export function versionTrainedFor(
  versions: readonly ModelMetadata[],
  requestId: string,
): ModelMetadata | undefined {
  return versions.find((m) => m.trainedFor?.requestId === requestId);
}

function classCounts(data: Dataset): { positives: number; negatives: number } {
  let positives = 0;
  for (let i = 0; i < data.rows; i++) positives += data.y[i]!;
  return { positives, negatives: data.rows - positives };
}

function featureKinds(base: ModelMetadata): Record<string, FeatureKind> {
  return Object.fromEntries(base.features.map((f) => [f, base.referenceProfile.features[f]!.kind]));
}

export async function retrainModel(
  deps: RetrainDeps,
  request: RetrainRequestRecord,
  options: RetrainOptions = {},
): Promise<RetrainResult> {
  const minRows = options.minRows ?? DEFAULT_MIN_ROWS;
  const versions = await deps.registry.list(request.model);
  const earlier = versionTrainedFor(versions, request.requestId);
  if (earlier) return { outcome: 'duplicate', version: earlier.version, metadata: earlier };

  const base =
    versions.find((m) => m.version === request.modelVersion) ?? versions.find((m) => m.stage === 'champion');
  if (!base) {
    throw new RetrainRefusedError(
      'UNKNOWN_MODEL',
      versions.length === 0
        ? `model ${request.model} is not registered; register a first version before asking for a retrain`
        : `model ${request.model} has no version ${request.modelVersion} and no champion to retrain from`,
    );
  }

  const window = resolveTrainingWindow(request, options.windowMs ?? DEFAULT_WINDOW_MS);
  const set = await loadLoggedTrainingSet(deps.clickhouse, base.features, {
    model: request.model,
    window,
    ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}),
    ...(options.predictionsTable ? { predictionsTable: options.predictionsTable } : {}),
    ...(options.labelsTable ? { labelsTable: options.labelsTable } : {}),
  });
  const data = set.dataset;
  const span = `${new Date(window.from).toISOString()}..${new Date(window.to).toISOString()}`;
  if (data.rows < minRows) {
    throw new RetrainRefusedError(
      'TOO_FEW_ROWS',
      `model ${request.model}: only ${data.rows} usable labelled served predictions in ${span} ` +
        `(need ${minRows}; read ${set.rowsRead}, skipped ${set.skippedMissingFeatures} lacking features of ` +
        `${request.model}@${base.version}); widen the window with trainFrom/trainTo or wait for labels`,
    );
  }
  const { train, holdout } = splitHoldout(data, options.holdoutFraction ?? 0.2);
  for (const [part, d] of [
    ['training set', data],
    ['holdout', holdout],
  ] as const) {
    const { positives, negatives } = classCounts(d);
    if (positives === 0 || negatives === 0) {
      throw new RetrainRefusedError(
        'ONE_CLASS',
        `model ${request.model}: the ${part} in ${span} has only one class (${positives} positive, ` +
          `${negatives} negative of ${d.rows}); a classifier needs both, widen the window`,
      );
    }
  }

  const params = await trainOffThread(train, options.train);
  const holdoutScores = predictAll(params, holdout);
  const holdoutMetrics = evaluateClassifier(holdoutScores, holdout.y);
  const trainMetrics = evaluateClassifier(predictAll(params, train), train.y);
  // Same split applied to the served scores: how the model in service did on the very same holdout rows.
  const served = splitHoldout(
    { featureNames: ['score'], rows: data.rows, x: set.servedScores, y: data.y },
    options.holdoutFraction ?? 0.2,
  ).holdout;
  const bytes = buildLogisticRegressionOnnx(params);
  const version = nextVersion(versions.map((m) => m.version));
  const candidate: ModelCandidate = {
    name: request.model,
    version,
    features: [...params.featureNames],
    inputName: INPUT_NAME,
    outputName: OUTPUT_NAME,
    sha256: sha256Hex(bytes),
    referenceProfile: buildReferenceProfile(train, featureKinds(base), holdoutScores),
    trainingMetrics: {
      ...classifierMetricsRecord(holdoutMetrics, trainMetrics),
      holdoutServedAuc: rocAuc(served.x, served.y),
      windowFrom: window.from,
      windowTo: window.to,
      rowsRead: set.rowsRead,
      skippedMissingFeatures: set.skippedMissingFeatures,
    },
    // Hash of the whole logged training set (train + holdout, in eventId order): re-running the query over
    // the same window reproduces it, and splitHoldout derives both parts from it deterministically.
    trainingSetHash: datasetHash(data),
    featureViewVersions: { ...base.featureViewVersions },
    trainedFor: { requestId: request.requestId, trigger: request.trigger, basedOn: base.version },
  };
  const metadata = await deps.registry.register(candidate, bytes, {
    stage: 'shadow',
    reason: `retrained from ${base.version} for ${request.trigger} request ${request.requestId}`,
  });
  const { dataset: _d, servedScores: _s, ...summary } = set;
  return {
    outcome: 'trained',
    version,
    metadata,
    basedOn: base.version,
    trainingSet: { ...summary, rows: data.rows },
  };
}
