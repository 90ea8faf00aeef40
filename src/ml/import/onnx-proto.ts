/**
 * @module ml/import/onnx-proto
 * Reads an ONNX file (a protobuf `ModelProto`) into plain typed objects. Only the messages an
 * importer of ONNX-ML classifiers needs are declared, with the field numbers of ONNX's public
 * `onnx.proto`; protobufjs skips every other field. Nothing here knows about operators.
 */
import protobuf from "protobufjs";
import { ErrorCode, KmlibError } from "../../errors.ts";

const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
}
message TensorShapeProto {
  message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  optional Tensor tensor_type = 1;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message AttributeProto {
  optional string name = 1;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7 [packed = true];
  repeated int64 ints = 8 [packed = true];
  repeated bytes strings = 9;
  optional int32 type = 20;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
  optional string domain = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message ModelProto {
  optional int64 ir_version = 1;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
`;

/** TensorProto.DataType values kmlib reads. */
export const OnnxDataType = { FLOAT: 1, INT32: 6, INT64: 7, STRING: 8, DOUBLE: 11 } as const;

export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** Numeric contents (float, double, int32, int64 as numbers). */
  values: number[];
}

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
  strings: string[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  elemType?: number;
  /** Dimensions: a number, a symbolic name, or undefined when unknown. */
  shape?: Array<number | string | undefined>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: OnnxTensor[];
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImport: Array<{ domain: string; version: number }>;
  metadata: Record<string, string>;
  graph: OnnxGraph;
}

let modelType: protobuf.Type | undefined;
function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType("onnx.ModelProto");
  return modelType;
}

/* protobufjs hands back untyped objects; these helpers give them shape. */
type Obj = Record<string, unknown>;
const text = new TextDecoder("utf-8", { fatal: false });
const str = (v: unknown): string => (typeof v === "string" ? v : v instanceof Uint8Array ? text.decode(v) : "");
const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const nums = (v: unknown): number[] => arr(v).map(num);

function fail(msg: string, cause?: unknown): never {
  throw new KmlibError(ErrorCode.InvalidModel, msg, cause === undefined ? undefined : { cause });
}

function rawValues(raw: Uint8Array, dataType: number, name: string): number[] {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const width = dataType === OnnxDataType.FLOAT || dataType === OnnxDataType.INT32 ? 4 : 8;
  if (raw.byteLength % width !== 0) fail(`ONNX tensor ${JSON.stringify(name)}: raw_data of ${raw.byteLength} bytes is not a whole number of ${width}-byte values`);
  const out: number[] = [];
  for (let o = 0; o < raw.byteLength; o += width) {
    switch (dataType) {
      case OnnxDataType.FLOAT:
        out.push(dv.getFloat32(o, true));
        break;
      case OnnxDataType.INT32:
        out.push(dv.getInt32(o, true));
        break;
      case OnnxDataType.INT64:
        out.push(Number(dv.getBigInt64(o, true)));
        break;
      default:
        out.push(dv.getFloat64(o, true));
    }
  }
  return out;
}

function tensor(o: Obj): OnnxTensor {
  const name = str(o.name);
  const dataType = num(o.data_type);
  let values: number[];
  const raw = o.raw_data;
  if (raw instanceof Uint8Array && raw.byteLength > 0) {
    if (![OnnxDataType.FLOAT, OnnxDataType.INT32, OnnxDataType.INT64, OnnxDataType.DOUBLE].includes(dataType as 1)) {
      fail(`ONNX tensor ${JSON.stringify(name)}: data type ${dataType} is not supported (float, double, int32, int64 are)`);
    }
    values = rawValues(raw, dataType, name);
  } else {
    values = [...nums(o.float_data), ...nums(o.double_data), ...nums(o.int32_data), ...nums(o.int64_data)];
  }
  return { name, dataType, dims: nums(o.dims), values };
}

function attribute(o: Obj): OnnxAttribute {
  const a: OnnxAttribute = { name: str(o.name), floats: nums(o.floats), ints: nums(o.ints), strings: arr(o.strings).map(str) };
  if (o.f !== undefined && o.f !== null) a.f = num(o.f);
  if (o.i !== undefined && o.i !== null) a.i = num(o.i);
  if (o.s !== undefined && o.s !== null) a.s = str(o.s);
  if (o.t && typeof o.t === "object") a.t = tensor(o.t as Obj);
  return a;
}

function valueInfo(o: Obj): OnnxValueInfo {
  const v: OnnxValueInfo = { name: str(o.name) };
  const tt = (o.type as Obj | undefined)?.tensor_type as Obj | undefined;
  if (tt) {
    if (tt.elem_type !== undefined) v.elemType = num(tt.elem_type);
    const shape = tt.shape as Obj | undefined;
    if (shape) {
      v.shape = arr(shape.dim).map((d) => {
        const dim = d as Obj;
        if (typeof dim.dim_value === "number") return dim.dim_value;
        if (typeof dim.dim_param === "string") return dim.dim_param;
        return undefined;
      });
    }
  }
  return v;
}

function node(o: Obj): OnnxNode {
  const attributes = new Map<string, OnnxAttribute>();
  for (const a of arr(o.attribute)) {
    const at = attribute(a as Obj);
    attributes.set(at.name, at);
  }
  return {
    name: str(o.name),
    opType: str(o.op_type),
    domain: str(o.domain),
    inputs: arr(o.input).map(str),
    outputs: arr(o.output).map(str),
    attributes,
  };
}

/** Decodes the bytes of an `.onnx` file. Throws KMLIB_INVALID_MODEL when they are not one. */
export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  const type = modelProto();
  let o: Obj;
  try {
    o = type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Obj;
  } catch (e) {
    fail(`not an ONNX model file (protobuf decoding failed: ${(e as Error).message})`, e);
  }
  const g = o.graph as Obj | undefined;
  if (!g || arr(g.node).length === 0) fail("not an ONNX model file (no graph, or a graph without nodes)");
  const metadata: Record<string, string> = {};
  for (const e of arr(o.metadata_props)) metadata[str((e as Obj).key)] = str((e as Obj).value);
  return {
    irVersion: num(o.ir_version),
    producerName: str(o.producer_name),
    producerVersion: str(o.producer_version),
    opsetImport: arr(o.opset_import).map((e) => ({ domain: str((e as Obj).domain), version: num((e as Obj).version) })),
    metadata,
    graph: {
      name: str(g.name),
      nodes: arr(g.node).map((n) => node(n as Obj)),
      inputs: arr(g.input).map((v) => valueInfo(v as Obj)),
      outputs: arr(g.output).map((v) => valueInfo(v as Obj)),
      initializers: arr(g.initializer).map((t) => tensor(t as Obj)),
    },
  };
}

/**
 * Encodes a ModelProto given as a plain object with ONNX's field names (`graph.node[].op_type`,
 * bytes fields as Uint8Array): small hand-made models for tests and tools.
 */
export function encodeOnnx(model: Record<string, unknown>): Uint8Array {
  const type = modelProto();
  const err = type.verify(model);
  if (err) throw new KmlibError(ErrorCode.InvalidArgument, `cannot encode ONNX model: ${err}`);
  return type.encode(type.fromObject(model)).finish();
}
