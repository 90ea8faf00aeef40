import { test } from "node:test";
import assert from "node:assert/strict";
import { requires } from "../../helpers/kernel.ts";
import { AtomicAdd, Call, Helper, JEq, JNE, LoadMapPtr, Mov, R0, R1, R2, R10, Add, Rsh, StoreImm, label, Return } from "../../../src/bpf/asm/index.ts";
import { PermissionError, attachTracing, createMap, enableStats, kernelFunctionBtfId, loadProgram, u32, u64, type BpfMap, type Program } from "../../../src/bpf/index.ts";
import { ErrorCode, isKmlibError } from "../../../src/errors.ts";

function fentryCounter(counts: BpfMap): Program {
  return loadProgram({
    name: "fentry_getppid",
    type: "TRACING",
    expectedAttachType: "TRACE_FENTRY",
    attachBtfId: kernelFunctionBtfId("__do_sys_getppid"),
    instructions: [
      Call(Helper.get_current_pid_tgid),
      Rsh.imm(R0, 32),
      JNE.imm(R0, process.pid, "out"),
      StoreImm("W", R10, -4, 0),
      LoadMapPtr(R1, "counts"),
      Mov.reg(R2, R10),
      Add.imm(R2, -4),
      Call(Helper.map_lookup_elem),
      JEq.imm(R0, 0, "out"),
      Mov.imm(R1, 1),
      AtomicAdd("DW", R0, 0, R1),
      label("out"),
      Return(0),
    ],
    maps: { counts },
  });
}

test("kernel functions are found in the kernel's BTF by name", (t) => {
  if (!requires(t, "bpf")) return;
  assert.ok(kernelFunctionBtfId("do_nanosleep") > 0);
  assert.throws(() => kernelFunctionBtfId("no_such_kernel_function_kmlib"), (e) => isKmlibError(e, ErrorCode.NotFound));
});

test("a TRACING (fentry) program on getppid counts this process's calls, or the refusal is explained", (t) => {
  if (!requires(t, "bpf")) return;
  using counts = createMap({ name: "t_fentry", type: "ARRAY", keySize: 4, valueSize: 8, maxEntries: 1 });
  let prog: Program;
  try {
    prog = fentryCounter(counts);
  } catch (e) {
    // Kernels under lockdown (integrity) refuse fentry programs even to root: the error
    // must say the capabilities are there and point at lockdown, not blame the caller.
    assert.ok(e instanceof PermissionError, String(e));
    assert.deepEqual(e.missing, []);
    assert.match(e.message, /capabilities are present/);
    assert.match(e.message, /lockdown/);
    t.diagnostic(`this kernel refuses fentry programs: ${e.message}`);
    return;
  }
  using _prog = prog;
  using _stats = enableStats();
  const get = () => counts.typed(u32, u64).get(0)!;
  {
    using link = attachTracing(prog);
    assert.equal(link.info().typeName, "TRACING");
    for (let i = 0; i < 5; i++) void process.ppid; // one getppid(2) each (not cached by Node)
    assert.ok(get() >= 5n, `counted ${get()}`);
    assert.ok(prog.info().runCount >= 5n);
  }
  const before = get();
  void process.ppid;
  assert.equal(get(), before, "closing the link detached the program");
});
