/**
 * A one-hidden-layer MLP as ONNX, the "heavier" model class (cost grows with hidden width):
 * features [N, F] -> Sub(mean) -> Div(std) -> Gemm(W1, b1) -> Relu -> Gemm(W2, b2) -> Sigmoid -> score [N, 1].
 */
import { encodeModel } from './onnx-proto.js';
import { featureMetadata, INPUT_NAME, OUTPUT_NAME } from './feature-metadata.js';
import { seededRandom } from '../synthetic-data.js';

export interface MlpParams {
  readonly featureNames: readonly string[];
  readonly mean: ArrayLike<number>;
  readonly std: ArrayLike<number>;
  readonly hidden: number;
  /** Row-major [F, hidden]. */
  readonly w1: ArrayLike<number>;
  readonly b1: ArrayLike<number>;
  /** [hidden] (a column vector [hidden, 1]). */
  readonly w2: ArrayLike<number>;
  readonly b2: number;
}

export function buildMlpOnnx(p: MlpParams): Uint8Array {
  const f = p.featureNames.length;
  const h = p.hidden;
  const expect = (name: string, arr: ArrayLike<number>, n: number) => {
    if (arr.length !== n) throw new Error(`${name} has ${arr.length} values, expected ${n}`);
  };
  expect('mean', p.mean, f);
  expect('std', p.std, f);
  expect('w1', p.w1, f * h);
  expect('b1', p.b1, h);
  expect('w2', p.w2, h);
  return encodeModel({
    graphName: 'sluice_mlp',
    docString: `MLP ${f}-${h}-1 with standardisation`,
    inputs: [{ name: INPUT_NAME, shape: ['N', f] }],
    outputs: [{ name: OUTPUT_NAME, shape: ['N', 1] }],
    initializers: [
      { name: 'mean', dims: [f], data: Array.from(p.mean) },
      { name: 'std', dims: [f], data: Array.from(p.std) },
      { name: 'W1', dims: [f, h], data: Array.from(p.w1) },
      { name: 'b1', dims: [h], data: Array.from(p.b1) },
      { name: 'W2', dims: [h, 1], data: Array.from(p.w2) },
      { name: 'b2', dims: [1], data: [p.b2] },
    ],
    nodes: [
      { name: 'center', op_type: 'Sub', input: [INPUT_NAME, 'mean'], output: ['centered'] },
      { name: 'scale', op_type: 'Div', input: ['centered', 'std'], output: ['standardised'] },
      { name: 'hidden', op_type: 'Gemm', input: ['standardised', 'W1', 'b1'], output: ['hidden_pre'] },
      { name: 'relu', op_type: 'Relu', input: ['hidden_pre'], output: ['hidden_act'] },
      { name: 'out', op_type: 'Gemm', input: ['hidden_act', 'W2', 'b2'], output: ['logit'] },
      { name: 'sigmoid', op_type: 'Sigmoid', input: ['logit'], output: [OUTPUT_NAME] },
    ],
    metadata: featureMetadata('mlp', p.featureNames),
  });
}

export function mlpForward(p: MlpParams, row: ArrayLike<number>): number {
  const f = p.featureNames.length;
  let z = p.b2;
  for (let j = 0; j < p.hidden; j++) {
    let a = p.b1[j]!;
    for (let i = 0; i < f; i++) a += ((row[i]! - p.mean[i]!) / p.std[i]!) * p.w1[i * p.hidden + j]!;
    z += Math.max(0, a) * p.w2[j]!;
  }
  return 1 / (1 + Math.exp(-z));
}

/** Seeded random weights (He-style scale): a stand-in heavy model for load tests and the worker pool. */
export function randomMlp(seed: number, featureNames: readonly string[], hidden: number): MlpParams {
  const rand = seededRandom(seed);
  const f = featureNames.length;
  const sym = (scale: number) => (rand() * 2 - 1) * scale;
  return {
    featureNames,
    mean: Array.from({ length: f }, () => sym(1)),
    std: Array.from({ length: f }, () => 0.5 + rand()),
    hidden,
    w1: Array.from({ length: f * hidden }, () => sym(Math.sqrt(2 / f))),
    b1: Array.from({ length: hidden }, () => sym(0.1)),
    w2: Array.from({ length: hidden }, () => sym(Math.sqrt(2 / hidden))),
    b2: sym(0.1),
  };
}
