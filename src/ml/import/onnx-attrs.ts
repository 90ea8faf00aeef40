/**
 * @module ml/import/onnx-attrs
 * Typed access to the attributes of an ONNX node, with errors that name the node, the
 * operator and the attribute. ONNX-ML operators give double-precision variants of float
 * lists as `NAME_as_tensor`; `reals` reads whichever is present.
 */
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { OnnxNode } from "./onnx-proto.ts";

export function nodeLabel(n: OnnxNode): string {
  return `${n.opType}${n.name ? ` node ${JSON.stringify(n.name)}` : ""}`;
}

export function failNode(n: OnnxNode, msg: string): never {
  throw new KmlibError(ErrorCode.InvalidModel, `ONNX ${nodeLabel(n)}: ${msg}`);
}

export function has(n: OnnxNode, name: string): boolean {
  return n.attributes.has(name) || n.attributes.has(`${name}_as_tensor`);
}

export function ints(n: OnnxNode, name: string, required = false): number[] {
  const a = n.attributes.get(name);
  if (!a && required) failNode(n, `attribute ${name} is missing`);
  return a?.ints ?? [];
}

export function strings(n: OnnxNode, name: string, required = false): string[] {
  const a = n.attributes.get(name);
  if (!a && required) failNode(n, `attribute ${name} is missing`);
  return a?.strings ?? [];
}

export function string(n: OnnxNode, name: string, dflt: string): string {
  return n.attributes.get(name)?.s ?? dflt;
}

export function int(n: OnnxNode, name: string, dflt: number): number {
  return n.attributes.get(name)?.i ?? dflt;
}

/** A list of reals from `name` (float) or `name_as_tensor` (double). */
export function reals(n: OnnxNode, name: string, required = false): number[] {
  const a = n.attributes.get(name);
  const t = n.attributes.get(`${name}_as_tensor`)?.t;
  if (a && a.floats.length > 0) return a.floats;
  if (t) return t.values;
  if (required && !a) failNode(n, `attribute ${name} is missing`);
  return [];
}

/** Every list attribute of the same tuple must have the same length. */
export function sameLength(n: OnnxNode, lists: Record<string, readonly unknown[]>): number {
  const entries = Object.entries(lists);
  const len = entries[0]![1].length;
  for (const [k, v] of entries) {
    if (v.length !== len) failNode(n, `attribute ${k} has ${v.length} entries, ${entries[0]![0]} has ${len}`);
  }
  return len;
}
