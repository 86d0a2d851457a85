/**
 * Logistic regression as ONNX, with the training standardisation baked in so the scorer feeds raw feature
 * values: features [N, F] -> Sub(mean) -> Div(std) -> MatMul(W) -> Add(b) -> Sigmoid -> score [N, 1].
 */
import { encodeModel } from './onnx-proto.js';
import { featureMetadata, INPUT_NAME, OUTPUT_NAME } from './feature-metadata.js';

export interface LogisticParams {
  readonly featureNames: readonly string[];
  /** Per-feature mean and standard deviation used in training (std must be > 0). */
  readonly mean: ArrayLike<number>;
  readonly std: ArrayLike<number>;
  /** Weights in the standardised space, one per feature. */
  readonly weights: ArrayLike<number>;
  readonly bias: number;
}

function checkLengths(p: LogisticParams): number {
  const f = p.featureNames.length;
  for (const [name, arr] of [
    ['mean', p.mean],
    ['std', p.std],
    ['weights', p.weights],
  ] as const) {
    if (arr.length !== f) throw new Error(`${name} has ${arr.length} values for ${f} features`);
  }
  for (let i = 0; i < f; i++) {
    if (!(p.std[i]! > 0)) throw new Error(`std of feature ${p.featureNames[i]} must be > 0, got ${p.std[i]}`);
  }
  return f;
}

export function buildLogisticRegressionOnnx(p: LogisticParams): Uint8Array {
  const f = checkLengths(p);
  return encodeModel({
    graphName: 'sluice_logistic_regression',
    docString: 'logistic regression with standardisation',
    inputs: [{ name: INPUT_NAME, shape: ['N', f] }],
    outputs: [{ name: OUTPUT_NAME, shape: ['N', 1] }],
    initializers: [
      { name: 'mean', dims: [f], data: Array.from(p.mean) },
      { name: 'std', dims: [f], data: Array.from(p.std) },
      { name: 'W', dims: [f, 1], data: Array.from(p.weights) },
      { name: 'b', dims: [1], data: [p.bias] },
    ],
    nodes: [
      { name: 'center', op_type: 'Sub', input: [INPUT_NAME, 'mean'], output: ['centered'] },
      { name: 'scale', op_type: 'Div', input: ['centered', 'std'], output: ['standardised'] },
      { name: 'dot', op_type: 'MatMul', input: ['standardised', 'W'], output: ['dot'] },
      { name: 'bias', op_type: 'Add', input: ['dot', 'b'], output: ['logit'] },
      { name: 'sigmoid', op_type: 'Sigmoid', input: ['logit'], output: [OUTPUT_NAME] },
    ],
    metadata: featureMetadata('logistic_regression', p.featureNames),
  });
}

/** The same computation in JS (float64), the reference the ONNX graph is checked against. */
export function logisticForward(p: LogisticParams, row: ArrayLike<number>): number {
  let z = p.bias;
  for (let i = 0; i < p.featureNames.length; i++) z += ((row[i]! - p.mean[i]!) / p.std[i]!) * p.weights[i]!;
  return 1 / (1 + Math.exp(-z));
}
