import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { requires, missing } from "../../helpers/kernel.ts";
import { NetNs, vethPair } from "../../../src/net/netns.ts";
import {
  Add, AtomicAdd, Call, Exit, Helper, JEq, JGT, JNE, LoadMapPtr, LoadMem, Mov, R0, R1, R2, R3, R6, R7, R10, StoreImm, label, type AsmInput,
} from "../../../src/bpf/asm/index.ts";
import {
  attachTcx, attachXdp, createMap, linkFromPin, loadProgram, mapFromPin, programFromPin, sumPerCpu, unpin, u32, u64, XdpAction, type BpfMap, type ProgTypeName,
} from "../../../src/bpf/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

/**
 * Counts ICMP echo requests (IPv4, no IP options) into per-CPU slot 0, and into `slot`
 * too, so a test can tell which of two programs saw each packet. `offset` is where the
 * Ethernet header starts in the context's data. Returns `verdict`.
 */
function countEchoRequests(slot: number, verdict: number, dataOff: number, endOff: number): AsmInput {
  const bump = (s: number, l: string) => [
    StoreImm("W", R10, -4, s),
    LoadMapPtr(R1, "counts"),
    Mov.reg(R2, R10),
    Add.imm(R2, -4),
    Call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, l),
    Mov.imm(R1, 1),
    AtomicAdd("DW", R0, 0, R1),
    label(l),
  ];
  return [
    LoadMem("W", R6, R1, dataOff), // data
    LoadMem("W", R7, R1, endOff), // data_end
    Mov.reg(R3, R6),
    Add.imm(R3, 35),
    JGT.reg(R3, R7, "out"),
    LoadMem("H", R3, R6, 12),
    JNE.imm(R3, 0x0008, "out"), // ETH_P_IP, big-endian on the wire
    LoadMem("B", R3, R6, 23),
    JNE.imm(R3, 1, "out"), // IPPROTO_ICMP
    LoadMem("B", R3, R6, 34),
    JNE.imm(R3, 8, "out"), // echo request
    bump(0, "b0"),
    bump(slot, "b1"),
    label("out"),
    Mov.imm(R0, verdict),
    Exit(),
  ];
}

const xdpCounter = (name: string, slot: number, counts: BpfMap) =>
  loadProgram({ name, type: "XDP", instructions: countEchoRequests(slot, XdpAction.PASS, 0, 4), maps: { counts } });
// __sk_buff: data at 76, data_end at 80; TC_ACT_OK = 0.
const tcCounter = (name: string, slot: number, counts: BpfMap, type: ProgTypeName = "SCHED_CLS") =>
  loadProgram({ name, type, instructions: countEchoRequests(slot, 0, 76, 80), maps: { counts } });

const perCpuCounts = () => createMap({ name: "counts", type: "PERCPU_ARRAY", keySize: 4, valueSize: 8, maxEntries: 4 });
const read = (m: BpfMap, slot: number) => sumPerCpu(m.typedPerCpu(u32, u64).get(slot)!);

function run(ns: NetNs, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn("ip", ["netns", "exec", ns.name, cmd, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.on("error", reject);
    p.on("close", () => (clearTimeout(timer), resolve(out)));
  });
}

function pingStats(out: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`cannot parse ping output: ${out}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}

describe("links on a veth pair between two fresh network namespaces", () => {
  let a: NetNs | undefined;
  let b: NetNs | undefined;
  const tag = `t-${process.pid}`;
  before(() => {
    if (missing("bpf", "netns")) return;
    a = NetNs.create(`${tag}a`);
    b = NetNs.create(`${tag}b`);
    vethPair(a, "kv0", "10.213.0.1/24", b, "kv1", "10.213.0.2/24");
  });
  after(() => {
    a?.close();
    b?.close();
    unpin(`test-${process.pid}`);
  });
  const target = () => ({ ifname: "kv1", netns: b!.name });

  test("replacing the XDP program while traffic flows loses no packet", async (t) => {
    if (!requires(t, "bpf", "netns")) return;
    using counts = perCpuCounts();
    using progA = xdpCounter("count_a", 1, counts);
    using progB = xdpCounter("count_b", 2, counts);
    using link = attachXdp(progA, target());
    assert.equal(link.info().progId, progA.info().id);
    const n = 20_000;
    const ping = run(a!, "ping", ["-f", "-q", "-c", String(n), "-W", "1", "10.213.0.2"]);
    let done = false;
    void ping.then(() => (done = true));
    let swaps = 0;
    const progs = [progB, progA];
    // Swap back and forth, a few ms apart, for as long as the flow lasts.
    while (!done) {
      await new Promise((r) => setTimeout(r, 3));
      if (done) break;
      link.update(progs[swaps % 2]!);
      swaps++;
    }
    const { sent, received } = pingStats(await ping);
    t.diagnostic(`sent ${sent}, received ${received}, swaps ${swaps}, by A ${read(counts, 1)}, by B ${read(counts, 2)}`);
    assert.equal(sent, n);
    assert.equal(read(counts, 0), BigInt(sent), "every echo request was seen by one of the programs");
    assert.equal(read(counts, 1) + read(counts, 2), BigInt(sent));
    assert.ok(read(counts, 1) > 0n && read(counts, 2) > 0n, "both programs saw traffic");
    assert.equal(received, sent, "no packet lost end to end");
    assert.ok(swaps >= 5, `only ${swaps} swaps while traffic flowed`);
  });

  test("update with an expected program refuses when another one is attached", (t) => {
    if (!requires(t, "bpf", "netns")) return;
    using counts = perCpuCounts();
    using p1 = xdpCounter("p1", 1, counts);
    using p2 = xdpCounter("p2", 2, counts);
    using link = attachXdp(p1, target());
    link.update(p2, { expected: p1 });
    assert.equal(link.info().progId, p2.info().id);
    assert.throws(() => link.update(p1, { expected: p1 }), (e) => isKmlibError(e, ErrorCode.Syscall) && /EPERM/.test(e.message) && /expected/.test(e.message));
    assert.throws(() => attachXdp(p1, target()), (e) => isKmlibError(e) && /already has an XDP program/.test(e.message));
  });

  test("detaching or closing a link stops the program", async (t) => {
    if (!requires(t, "bpf", "netns")) return;
    using counts = perCpuCounts();
    using p = xdpCounter("p_det", 1, counts);
    const link = attachXdp(p, target());
    await run(a!, "ping", ["-c", "3", "-i", "0.01", "-q", "10.213.0.2"]);
    assert.equal(read(counts, 0), 3n);
    link.detach();
    await run(a!, "ping", ["-c", "3", "-i", "0.01", "-q", "10.213.0.2"]);
    assert.equal(read(counts, 0), 3n);
    link.close();
    assert.throws(() => link.update(p), (e) => isKmlibError(e, ErrorCode.Closed));
    using again = attachXdp(p, target()); // the interface is free again
    assert.equal(again.kind, "xdp");
  });

  test("tcx ingress and egress links count packets both ways and update atomically", async (t) => {
    if (!requires(t, "bpf", "netns")) return;
    using counts = perCpuCounts();
    using inA = tcCounter("tc_in", 1, counts);
    using outB = tcCounter("tc_out", 2, counts);
    using ingress = attachTcx(inA, target(), "ingress");
    // Echo requests leave kv0 (egress) in namespace a.
    using egress = attachTcx(outB, { ifname: "kv0", netns: a!.name }, "egress");
    assert.equal(ingress.kind, "tcx-ingress");
    assert.equal(egress.info().typeName, "TCX");
    await run(a!, "ping", ["-c", "5", "-i", "0.01", "-q", "10.213.0.2"]);
    assert.equal(read(counts, 1), 5n, "ingress on kv1 saw 5 echo requests");
    assert.equal(read(counts, 2), 5n, "egress on kv0 saw 5 echo requests");
    using inC = tcCounter("tc_in2", 3, counts);
    ingress.update(inC);
    await run(a!, "ping", ["-c", "2", "-i", "0.01", "-q", "10.213.0.2"]);
    assert.equal(read(counts, 3), 2n);
    assert.equal(read(counts, 1), 5n);
  });

  test("programs, maps and links pinned under /sys/fs/bpf/kmlib outlive their fds", async (t) => {
    if (!requires(t, "bpf", "netns")) return;
    const dir = `test-${process.pid}`;
    const counts = perCpuCounts();
    const p = xdpCounter("p_pin", 1, counts);
    const link = attachXdp(p, target());
    assert.equal(counts.pin(`${dir}/counts`), `/sys/fs/bpf/kmlib/${dir}/counts`);
    p.pin(`${dir}/prog`);
    link.pin(`${dir}/link`);
    assert.throws(() => p.pin(`${dir}/prog`), (e) => isKmlibError(e, ErrorCode.Syscall) && /EEXIST/.test(e.message));
    link.close();
    p.close();
    counts.close();
    await run(a!, "ping", ["-c", "4", "-i", "0.01", "-q", "10.213.0.2"]);
    using counts2 = mapFromPin(`${dir}/counts`);
    assert.equal(read(counts2, 0), 4n, "the pinned link kept the program attached");
    using p2 = programFromPin(`${dir}/prog`);
    assert.equal(p2.name, "p_pin");
    {
      using l2 = linkFromPin(`${dir}/link`);
      assert.equal(l2.kind, "xdp");
      assert.equal(l2.info().progId, p2.info().id);
      unpin(`${dir}/link`);
    }
    await run(a!, "ping", ["-c", "2", "-i", "0.01", "-q", "10.213.0.2"]);
    assert.equal(read(counts2, 0), 4n, "unpinned and closed: detached");
    unpin(`${dir}/prog`);
    unpin(`${dir}/counts`);
    assert.throws(() => mapFromPin(`${dir}/counts`), (e) => isKmlibError(e, ErrorCode.Syscall) && /ENOENT/.test(e.message));
  });

  test("attaching to a missing interface or namespace names it", (t) => {
    if (!requires(t, "bpf", "netns")) return;
    using counts = perCpuCounts();
    using p = xdpCounter("p_missing", 1, counts);
    assert.throws(() => attachXdp(p, { ifname: "nope0", netns: b!.name }), (e) => isKmlibError(e, ErrorCode.NotFound) && /nope0/.test(e.message));
    assert.throws(() => attachXdp(p, { ifname: "kv1", netns: "kmlib-no-such-ns" }), (e) => isKmlibError(e, ErrorCode.NotFound) && /kmlib-no-such-ns/.test(e.message));
    using tc = tcCounter("p_tc", 1, counts);
    assert.throws(() => attachXdp(tc, target()), (e) => isKmlibError(e, ErrorCode.Syscall) && /wrong program type/.test(e.message));
  });
});
