/**
 * The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3) that Sluice's trainer
 * writes, defined inline so building a model needs no download and no generated code. Field numbers are the
 * upstream ones: keep them in sync if a field is added.
 */
import protobuf from 'protobufjs';

const ONNX_SUBSET = `
syntax = "proto3";
package onnx;

message StringStringEntryProto { string key = 1; string value = 2; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }

message TensorShapeProto {
  message Dimension {
    oneof value { int64 dim_value = 1; string dim_param = 2; }
    string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
  string denotation = 6;
}

message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  bytes raw_data = 9;
  string doc_string = 12;
}

message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  string doc_string = 13;
  AttributeType type = 20;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
  string domain = 7;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}

message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
`;

/** onnx.TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT64: 7 } as const;
/** onnx.AttributeProto.AttributeType values used here. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2 } as const;

/**
 * IR version 8 with default-domain opset 17: every op used here exists there unchanged, and ORT 1.30 loads
 * IR <= 11 / opset <= 23, so the files also load in older runtimes a production host may pin.
 */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

const root = protobuf.parse(ONNX_SUBSET, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

export interface TensorSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | readonly number[];
}

export interface NodeSpec {
  readonly op_type: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly name: string;
  readonly attribute?: readonly { name: string; type: number; f?: number; i?: number }[];
}

/** A dimension is a fixed size or a named symbolic one (e.g. 'N' for the batch). */
export type Dim = number | string;

export interface ValueSpec {
  readonly name: string;
  readonly shape: readonly Dim[];
}

export interface ModelSpec {
  readonly graphName: string;
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly TensorSpec[];
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly docString?: string;
  readonly modelVersion?: number;
}

const floatValueInfo = (v: ValueSpec) => ({
  name: v.name,
  type: {
    tensor_type: {
      elem_type: OnnxDataType.FLOAT,
      shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
    },
  },
});

function floatTensor(t: TensorSpec) {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) {
    throw new Error(
      `tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}] (${expected})`,
    );
  }
  for (const v of t.data) {
    if (!Number.isFinite(v)) throw new Error(`tensor ${t.name} holds a non-finite value (${v})`);
  }
  return { name: t.name, dims: [...t.dims], data_type: OnnxDataType.FLOAT, float_data: Array.from(t.data) };
}

/** Serialises a float32 graph into ONNX ModelProto bytes. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const message = {
    ir_version: ONNX_IR_VERSION,
    producer_name: 'sluice-trainer',
    producer_version: '0.1.0',
    domain: 'ai.sluice',
    model_version: spec.modelVersion ?? 1,
    doc_string: spec.docString ?? '',
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    metadata_props: Object.entries(spec.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.graphName,
      node: spec.nodes.map((n) => ({ ...n, input: [...n.input], output: [...n.output] })),
      initializer: spec.initializers.map(floatTensor),
      input: spec.inputs.map(floatValueInfo),
      output: spec.outputs.map(floatValueInfo),
    },
  };
  const invalid = ModelProto.verify(message);
  if (invalid) throw new Error(`ONNX model message is invalid: ${invalid}`);
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}

export interface DecodedModelSummary {
  readonly irVersion: number;
  readonly opset: number;
  readonly metadata: Record<string, string>;
  readonly inputs: { name: string; shape: Dim[] }[];
  readonly outputs: { name: string; shape: Dim[] }[];
  readonly opTypes: string[];
}

interface DecodedValueInfo {
  name: string;
  type?: { tensor_type?: { shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } };
}

/** Reads back the parts of a model a test or a tool wants to check (not a general ONNX reader). */
export function decodeModelSummary(bytes: Uint8Array): DecodedModelSummary {
  const obj = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false }) as {
    ir_version?: number;
    opset_import?: { domain?: string; version?: number }[];
    metadata_props?: { key: string; value: string }[];
    graph?: { node?: { op_type: string }[]; input?: DecodedValueInfo[]; output?: DecodedValueInfo[] };
  };
  const shapeOf = (v: DecodedValueInfo): Dim[] =>
    (v.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_value ?? d.dim_param ?? '?');
  return {
    irVersion: obj.ir_version ?? 0,
    opset: obj.opset_import?.find((o) => !o.domain)?.version ?? 0,
    metadata: Object.fromEntries((obj.metadata_props ?? []).map((p) => [p.key, p.value])),
    inputs: (obj.graph?.input ?? []).map((v) => ({ name: v.name, shape: shapeOf(v) })),
    outputs: (obj.graph?.output ?? []).map((v) => ({ name: v.name, shape: shapeOf(v) })),
    opTypes: (obj.graph?.node ?? []).map((n) => n.op_type),
  };
}
