/**
 * Trains the reference transaction-risk model on seeded synthetic data and writes model.onnx + metadata.json
 * (a registry candidate) into a directory. Same seed and row count -> byte-identical model and sha256.
 *
 *   node --import tsx services/trainer/build-reference-model.ts <outDir> [--seed 42] [--rows 20000]
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelCandidate } from '../../connectors/model-registry/model-metadata.js';
import { assertModelCandidate } from '../../connectors/model-registry/model-metadata.js';
import { INPUT_NAME, OUTPUT_NAME } from './onnx/feature-metadata.js';
import { buildLogisticRegressionOnnx } from './onnx/logistic-regression-onnx.js';
import {
  classifierMetricsRecord,
  evaluateClassifier,
  predictAll,
  trainLogisticRegression,
} from './logistic-regression.js';
import { buildReferenceProfile } from './reference-profile.js';
import type { Dataset } from './synthetic-data.js';
import { generateTxnRiskData, splitHoldout, TXN_RISK_FEATURES } from './synthetic-data.js';

export interface BuildReferenceModelOptions {
  readonly outDir: string;
  readonly seed?: number;
  readonly rows?: number;
  readonly name?: string;
  readonly version?: string;
}

export interface BuiltModel {
  readonly modelPath: string;
  readonly metadataPath: string;
  readonly candidate: ModelCandidate;
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Hash of exactly what the model saw: feature names, feature values and labels. */
export function datasetHash(data: Dataset): string {
  return createHash('sha256')
    .update(JSON.stringify(data.featureNames))
    .update(new Uint8Array(data.x.buffer, data.x.byteOffset, data.x.byteLength))
    .update(data.y)
    .digest('hex');
}

export async function buildReferenceModel(options: BuildReferenceModelOptions): Promise<BuiltModel> {
  const { outDir, seed = 42, rows = 20_000, name = 'txn-risk', version = '1' } = options;
  const data = generateTxnRiskData({ rows, seed });
  const { train, holdout } = splitHoldout(data, 0.2);
  const params = trainLogisticRegression(train);
  const holdoutScores = predictAll(params, holdout);
  const holdoutMetrics = evaluateClassifier(holdoutScores, holdout.y);
  const trainMetrics = evaluateClassifier(predictAll(params, train), train.y);
  const bytes = buildLogisticRegressionOnnx(params);
  const kinds = Object.fromEntries(TXN_RISK_FEATURES.map((f) => [f.name, f.kind]));
  const candidate: ModelCandidate = {
    name,
    version,
    features: [...params.featureNames],
    inputName: INPUT_NAME,
    outputName: OUTPUT_NAME,
    sha256: sha256Hex(bytes),
    referenceProfile: buildReferenceProfile(train, kinds, holdoutScores),
    trainingMetrics: { ...classifierMetricsRecord(holdoutMetrics, trainMetrics), seed },
    trainingSetHash: datasetHash(train),
    featureViewVersions: { 'txn-risk-synthetic': `seed-${seed}` },
  };
  assertModelCandidate(candidate, 'the built reference model');
  await mkdir(outDir, { recursive: true });
  const modelPath = path.join(outDir, 'model.onnx');
  const metadataPath = path.join(outDir, 'metadata.json');
  await writeFile(modelPath, bytes);
  await writeFile(metadataPath, JSON.stringify(candidate, null, 2) + '\n');
  return { modelPath, metadataPath, candidate };
}

function parseArgs(argv: string[]): BuildReferenceModelOptions {
  const usage = 'usage: build-reference-model <outDir> [--seed N] [--rows N] [--name NAME] [--version V]';
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${a} needs a value; ${usage}`);
      flags[a.slice(2)] = value;
    } else positional.push(a);
  }
  if (positional.length !== 1) throw new Error(usage);
  const int = (key: string) => {
    if (flags[key] === undefined) return undefined;
    const n = Number(flags[key]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${key} must be a positive integer; ${usage}`);
    return n;
  };
  for (const k of Object.keys(flags)) {
    if (!['seed', 'rows', 'name', 'version'].includes(k)) throw new Error(`unknown option --${k}; ${usage}`);
  }
  return {
    outDir: positional[0]!,
    seed: int('seed'),
    rows: int('rows'),
    name: flags.name,
    version: flags.version,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    const built = await buildReferenceModel(parseArgs(process.argv.slice(2)));
    const m = built.candidate.trainingMetrics;
    console.log(
      `wrote ${built.modelPath} and ${built.metadataPath} (sha256 ${built.candidate.sha256.slice(0, 12)}, ` +
        `holdout AUC ${m.holdoutAuc?.toFixed(4)}, log loss ${m.holdoutLogLoss?.toFixed(4)})`,
    );
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
