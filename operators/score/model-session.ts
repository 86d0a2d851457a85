/**
 * Opening a model for scoring: pick a provider, then check the graph against the registry's declared
 * contract (input/output names, [N, F] input shape) and run a probe batch. Any refusal is a typed
 * ModelValidationError, thrown before the model can replace one that is serving.
 */
import type { ProviderAttempt, ProviderSelection } from './execution-provider.js';
import { NoExecutionProviderError, selectExecutionProvider } from './execution-provider.js';
import { ModelValidationError } from './score-errors.js';
import type { ScoringSession, SessionFactory } from './session-factory.js';
import { float32Tensor } from './session-factory.js';

/** What the registry metadata promises about a model (a subset of ModelMetadata). */
export interface ModelContract {
  readonly name: string;
  readonly version: string;
  readonly features: readonly string[];
  readonly inputName: string;
  readonly outputName: string;
}

export const modelId = (c: ModelContract) => `${c.name}@${c.version}`;

export function checkAvailableFeatures(
  contract: ModelContract,
  available: readonly string[] | undefined,
): void {
  if (!available) return;
  const have = new Set(available);
  const missing = contract.features.filter((f) => !have.has(f));
  if (missing.length) {
    throw new ModelValidationError(
      'MISSING_FEATURES',
      `model ${modelId(contract)} needs feature(s) ${missing.join(', ')} that the feature view does not provide ` +
        `(available: ${available.join(', ')}); add them to the feature view or deploy a model trained without them`,
    );
  }
}

export function checkSessionContract(session: ScoringSession, contract: ModelContract): void {
  const id = modelId(contract);
  if (!session.inputNames.includes(contract.inputName)) {
    throw new ModelValidationError(
      'INPUT_MISMATCH',
      `model ${id}: metadata declares input "${contract.inputName}" but the ONNX graph has input(s) ` +
        `${session.inputNames.join(', ')}; fix inputName in metadata.json or re-export the model`,
    );
  }
  if (session.inputNames.length !== 1) {
    throw new ModelValidationError(
      'INPUT_MISMATCH',
      `model ${id} has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); ` +
        'the scorer feeds exactly one [N, F] float tensor',
    );
  }
  if (!session.outputNames.includes(contract.outputName)) {
    throw new ModelValidationError(
      'OUTPUT_MISMATCH',
      `model ${id}: metadata declares output "${contract.outputName}" but the ONNX graph has output(s) ` +
        `${session.outputNames.join(', ')}`,
    );
  }
  const input = session.inputMetadata.find((m) => m.name === contract.inputName);
  if (input?.isTensor) {
    const f = contract.features.length;
    const shape = input.shape;
    if (input.type !== 'float32') {
      throw new ModelValidationError(
        'SHAPE_MISMATCH',
        `model ${id}: input must be float32, is ${input.type}`,
      );
    }
    if (shape.length !== 2 || (typeof shape[1] === 'number' && shape[1] !== f)) {
      throw new ModelValidationError(
        'SHAPE_MISMATCH',
        `model ${id}: input "${contract.inputName}" has shape [${shape.join(', ')}] but metadata lists ${f} ` +
          `feature(s) (${contract.features.join(', ')}); expected [N, ${f}]`,
      );
    }
  }
}

/** Runs a rows x F batch and returns one score per row. Not async: one promise hop fewer per batch. */
export function runBatch(
  session: ScoringSession,
  contract: ModelContract,
  input: Float32Array,
  rows: number,
): Promise<Float32Array> {
  try {
    const feeds = { [contract.inputName]: float32Tensor(input, [rows, contract.features.length]) };
    return session.run(feeds, [contract.outputName]).then((out) => scoresOf(out, contract, rows));
  } catch (err) {
    return Promise.reject(err as Error); // a session that throws synchronously still fails only this batch
  }
}

function scoresOf(
  out: Awaited<ReturnType<ScoringSession['run']>>,
  contract: ModelContract,
  rows: number,
): Float32Array {
  const data = out[contract.outputName]?.data;
  if (data instanceof Float32Array && data.length === rows) return data;
  if (!data || typeof data === 'string' || (data as ArrayLike<unknown>).length !== rows) {
    throw new Error(
      `model ${modelId(contract)} returned ${(data as ArrayLike<unknown>)?.length ?? 'no'} values for ${rows} rows; ` +
        'the output must be [N, 1] or [N]',
    );
  }
  return Float32Array.from(data as ArrayLike<number>);
}

async function probe(session: ScoringSession, contract: ModelContract): Promise<void> {
  checkSessionContract(session, contract);
  const rows = 2;
  let scores: Float32Array;
  try {
    scores = await runBatch(session, contract, new Float32Array(rows * contract.features.length), rows);
  } catch (err) {
    throw new ModelValidationError('PROBE_FAILED', `probe batch failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!scores.every(Number.isFinite)) {
    throw new ModelValidationError(
      'PROBE_FAILED',
      `probe batch gave non-finite scores [${scores.join(', ')}]`,
    );
  }
}

export interface OpenModelOptions {
  readonly preferredProviders: readonly string[];
  readonly sessionFactory: SessionFactory;
  readonly availableFeatures?: readonly string[];
}

const describeAttempts = (attempts: readonly ProviderAttempt[]) =>
  attempts.map((a) => `${a.provider}: ${a.reason}`).join('; ');

/** Opens, validates and probes a model, or throws ModelValidationError naming the fix. */
export async function openModelSession(
  modelBytes: Uint8Array,
  contract: ModelContract,
  options: OpenModelOptions,
): Promise<ProviderSelection<ScoringSession>> {
  checkAvailableFeatures(contract, options.availableFeatures);
  try {
    return await selectExecutionProvider({
      preferred: options.preferredProviders,
      modelBytes,
      sessionFactory: options.sessionFactory,
      probe: (session) => probe(session, contract),
      release: (session) => session.release(),
      // A wrong name or shape is the model's fault on every provider: no point trying the next one.
      isModelError: (err) => err instanceof ModelValidationError && err.code !== 'PROBE_FAILED',
    });
  } catch (err) {
    if (!(err instanceof NoExecutionProviderError)) throw err;
    const tried = describeAttempts(err.attempts);
    if (/protobuf parsing failed|failed to load model|invalid model|ModelProto/i.test(tried)) {
      throw new ModelValidationError(
        'CORRUPT_MODEL',
        `model ${modelId(contract)} is not a loadable ONNX file (${tried}); re-export or re-register it`,
        { cause: err },
      );
    }
    const last = err.attempts[err.attempts.length - 1];
    throw new ModelValidationError(
      last?.reason.startsWith('probe') ? 'PROBE_FAILED' : 'NO_EXECUTION_PROVIDER',
      `model ${modelId(contract)} could not be run by any of ${options.preferredProviders.join(', ')}: ${tried}`,
      { cause: err },
    );
  }
}
