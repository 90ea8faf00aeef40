/**
 * @module cli/commands/bpf-kernel
 * `kmlib bpf prog list`, `kmlib bpf map list`, `kmlib bpf map dump ID|PIN`,
 * `kmlib bpf link list`: what is loaded in the kernel, bpftool style. Joins the `bpf`
 * command group when another module created it. Needs root (CAP_SYS_ADMIN to walk ids).
 */
import { Command, Option } from "commander";
import { ErrorCode, KmlibError } from "../../errors.ts";
import {
  listInfos, mapFromId, mapFromPin, nameOf, AttachType, i16, i32, i64, i8, u16, u32, u64, u8, type BpfMap, type Codec,
} from "../../bpf/index.ts";
import { json, table } from "../common.ts";

const codecs: Record<string, Codec<number> | Codec<bigint>> = { u8, u16, u32, u64, i8, i16, i32, i64 };
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");

function openMap(ref: string): BpfMap {
  return /^\d+$/.test(ref) ? mapFromId(Number(ref)) : mapFromPin(ref);
}

function decoder(name: string | undefined, size: number, what: string): (b: Uint8Array) => string | number {
  if (name === undefined || name === "hex") return hex;
  const c = codecs[name];
  if (!c) throw new KmlibError(ErrorCode.InvalidArgument, `unknown ${what} type "${name}" (hex, ${Object.keys(codecs).join(", ")})`);
  if (c.size !== size) throw new KmlibError(ErrorCode.InvalidArgument, `${what} type ${name} is ${c.size} bytes, the map's ${what}s are ${size} bytes`);
  return (b) => {
    const v = c.decode(new DataView(b.buffer, b.byteOffset, b.byteLength), 0);
    return typeof v === "bigint" ? v.toString() : v;
  };
}

export function register(program: Command): void {
  const bpf = program.commands.find((c) => c.name() === "bpf") ?? program.command("bpf").description("the eBPF toolkit");

  const prog = bpf.command("prog").description("programs loaded in the kernel");
  prog
    .command("list")
    .description("list every loaded program (run counts grow only while statistics are enabled)")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const rows = listInfos("prog").map((i) => ({
        id: i.id, type: i.typeName, name: i.name, tag: i.tag, jited: i.jitedSize, xlated: i.xlatedSize,
        verified: i.verifiedInsns, runs: i.runCount, runTimeNs: i.runTimeNs,
      }));
      process.stdout.write(o.json ? json(rows) + "\n" : table(rows, ["id", "type", "name", "tag", "jited", "xlated", "verified", "runs", "runTimeNs"]));
    });

  const map = bpf.command("map").description("maps in the kernel");
  map
    .command("list")
    .description("list every map")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const rows = listInfos("map").map((i) => ({ id: i.id, type: i.typeName, name: i.name, key: i.keySize, value: i.valueSize, max: i.maxEntries, flags: i.flags }));
      process.stdout.write(o.json ? json(rows) + "\n" : table(rows, ["id", "type", "name", "key", "value", "max", "flags"]));
    });
  map
    .command("dump")
    .description("print a map's entries (per-CPU maps: one value per CPU)")
    .argument("<map>", "map id, or a pin path (relative paths are under /sys/fs/bpf/kmlib/)")
    .addOption(new Option("--key <type>", "decode keys as").choices(["hex", ...Object.keys(codecs)]))
    .addOption(new Option("--value <type>", "decode values as").choices(["hex", ...Object.keys(codecs)]))
    .option("--json", "print JSON")
    .action((ref: string, o: { key?: string; value?: string; json?: boolean }) => {
      using m = openMap(ref);
      const k = decoder(o.key, m.keySize, "key");
      const v = decoder(o.value, m.valueSize, "value");
      const stride = m.valueBytes / m.cpus;
      const entries = [...m.entries()].map(([key, val]) => ({
        key: k(key),
        value: m.perCpu ? Array.from({ length: m.cpus }, (_, c) => v(val.subarray(c * stride, c * stride + m.valueSize))) : v(val),
      }));
      if (o.json) process.stdout.write(json({ id: m.info().id, name: m.name, type: m.info().typeName, entries }) + "\n");
      else for (const e of entries) process.stdout.write(`${e.key}: ${Array.isArray(e.value) ? e.value.join(" | ") : e.value}\n`);
    });

  const link = bpf.command("link").description("links (attachments) in the kernel");
  link
    .command("list")
    .description("list every link")
    .option("--json", "print JSON")
    .action((o: { json?: boolean }) => {
      const rows = listInfos("link").map((i) => ({
        id: i.id, type: i.typeName, prog: i.progId, ifindex: i.ifindex ?? "", attach: i.attachType === undefined ? "" : nameOf(AttachType, i.attachType),
      }));
      process.stdout.write(o.json ? json(rows) + "\n" : table(rows, ["id", "type", "prog", "ifindex", "attach"]));
    });
}
