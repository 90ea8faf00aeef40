/**
 * @module compile/artifact
 * The file `kmlib compile --out` writes: a compiled model as JSON, loadable without the
 * compiler. `{"format": "kmlib-bpf", "version": 1, ...}` with, per program, its encoded
 * instructions (base64, map fds zero) and the slots where the loader patches each map's fd;
 * the maps to create; for the table strategy, the table shape and the initial image.
 */
import { assemble } from "../bpf/asm/index.ts";
import { assertNever } from "../errors.ts";
import type { CompiledModel, MapPlan } from "./compile.ts";
import { encodeTable, type TableShape } from "./table-layout.ts";

export const ARTIFACT_FORMAT = "kmlib-bpf";
export const ARTIFACT_VERSION = 1;

export interface ArtifactProgram {
  name: string;
  insns: number;
  processedEstimate: number;
  stackBytes: number;
  /** Encoded instructions, base64. */
  code: string;
  relocations: Array<{ slot: number; map: string }>;
}

export interface Artifact {
  format: typeof ARTIFACT_FORMAT;
  version: typeof ARTIFACT_VERSION;
  kind: CompiledModel["ir"]["kind"];
  strategy: CompiledModel["strategy"];
  layout: CompiledModel["layout"];
  form: CompiledModel["form"];
  prefix: string;
  nFeatures: number;
  nScores: number;
  nClasses: number;
  classNames: string[];
  featureNames: string[];
  /** Calling convention (see src/compile/abi.ts). */
  abi: string;
  programs: ArtifactProgram[];
  maps: MapPlan[];
  table?: { shape: TableShape; image: string };
  reason: string;
}

function abiText(c: CompiledModel): string {
  switch (c.form) {
    case "record":
      return `XDP program; packet = int32 record x[${c.nFeatures}] | class | scores[${c.nScores}]; class also returned`;
    case "io":
      return `program over per-CPU map ${c.prefix}io (key 0): x[${c.nFeatures}] | class | scores[${c.nScores}]; class returned or continuation tail call`;
    case "function":
      return `bpf-to-bpf function ${c.prefix}predict(r1 = const int32 *x, r2 = int32 *scores) -> r0 = class (-1: no decision)`;
    default:
      return assertNever(c.form, "program form");
  }
}

export function toArtifact(c: CompiledModel): Artifact {
  const programs = c.programs.map((p) => {
    const a = assemble(p.items);
    return {
      name: p.name,
      insns: p.insns,
      processedEstimate: p.processedEstimate,
      stackBytes: p.stackBytes,
      code: Buffer.from(a.bytes).toString("base64"),
      relocations: a.relocations.map((r) => ({ slot: r.slot, map: r.map })),
    };
  });
  return {
    format: ARTIFACT_FORMAT,
    version: ARTIFACT_VERSION,
    kind: c.ir.kind,
    strategy: c.strategy,
    layout: c.layout,
    form: c.form,
    prefix: c.prefix,
    nFeatures: c.nFeatures,
    nScores: c.nScores,
    nClasses: c.nClasses,
    classNames: [...c.ir.classNames],
    featureNames: [...c.ir.featureNames],
    abi: abiText(c),
    programs,
    maps: c.maps,
    ...(c.table ? { table: { shape: c.table, image: Buffer.from(encodeTable(c.ir, c.table)).toString("base64") } } : {}),
    reason: c.reason,
  };
}
