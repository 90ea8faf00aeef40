/**
 * @module bpf/sys/libbpf
 * The real `BpfSys`: koffi calling the system libbpf (`libbpf.so.1`, 1.1 low-level API) and
 * a few libc calls (close, mmap, setns, if_nametoindex). The only file in kmlib that
 * imports koffi. Option structs mirror libbpf 1.1's layouts (checked with offsetof) and
 * carry their own `sz`, as libbpf requires.
 */
import koffi, { type LibraryHandle } from "koffi";
import { ErrorCode, KmlibError } from "../../errors.ts";
import type { BatchFlags, BpfSys, FdWatch, LinkCreateArgs, MapCreateArgs, Mapping, ProgLoadArgs, TestRunArgs, TestRunResult } from "./types.ts";

type Fn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

function open(name: string, hint: string): LibraryHandle {
  try {
    return koffi.load(name);
  } catch (e) {
    throw new KmlibError(ErrorCode.Unsupported, `cannot load ${name} (${hint})`, { cause: e });
  }
}

/** Lazily built: importing kmlib never needs libbpf until a kernel object is used. */
function build(): BpfSys {
  const lib = open("libbpf.so.1", "install Debian's libbpf1");
  const libc = open("libc.so.6", "glibc");
  const f = (h: LibraryHandle, decl: string) => h.func(decl) as unknown as Fn;

  const MapCreateOpts = koffi.struct("kmlib_map_create_opts", {
    sz: "size_t", btf_fd: "uint32_t", btf_key_type_id: "uint32_t", btf_value_type_id: "uint32_t",
    btf_vmlinux_value_type_id: "uint32_t", inner_map_fd: "uint32_t", map_flags: "uint32_t",
    map_extra: "uint64_t", numa_node: "uint32_t", map_ifindex: "uint32_t",
  });
  const ProgLoadOpts = koffi.struct("kmlib_prog_load_opts", {
    sz: "size_t", attempts: "int", expected_attach_type: "uint32_t", prog_btf_fd: "uint32_t", prog_flags: "uint32_t",
    prog_ifindex: "uint32_t", kern_version: "uint32_t", attach_btf_id: "uint32_t", attach_prog_fd: "uint32_t",
    attach_btf_obj_fd: "uint32_t", fd_array: "void *", func_info: "void *", func_info_cnt: "uint32_t",
    func_info_rec_size: "uint32_t", line_info: "void *", line_info_cnt: "uint32_t", line_info_rec_size: "uint32_t",
    log_level: "uint32_t", log_size: "uint32_t", log_buf: "void *",
  });
  const BatchOpts = koffi.struct("kmlib_map_batch_opts", { sz: "size_t", elem_flags: "uint64_t", flags: "uint64_t" });
  // The union of per-attach-type fields is never set by kmlib: reserve its 32 bytes as zeros.
  const LinkCreateOpts = koffi.struct("kmlib_link_create_opts", {
    sz: "size_t", flags: "uint32_t", iter_info: "void *", iter_info_len: "uint32_t", target_btf_id: "uint32_t",
    reserved: koffi.array("uint64_t", 4),
  });
  const LinkUpdateOpts = koffi.struct("kmlib_link_update_opts", { sz: "size_t", flags: "uint32_t", old_prog_fd: "uint32_t" });
  const TestRunOpts = koffi.struct("kmlib_test_run_opts", {
    sz: "size_t", data_in: "void *", data_out: "void *", data_size_in: "uint32_t", data_size_out: "uint32_t",
    ctx_in: "void *", ctx_out: "void *", ctx_size_in: "uint32_t", ctx_size_out: "uint32_t",
    retval: "uint32_t", repeat: "int", duration: "uint32_t", flags: "uint32_t", cpu: "uint32_t", batch_size: "uint32_t",
  });
  const ObjGetOpts = koffi.struct("kmlib_obj_get_opts", { sz: "size_t", file_flags: "uint32_t", pad: "uint32_t" });
  const sizes = { MapCreateOpts: 48, ProgLoadOpts: 104, BatchOpts: 24, LinkCreateOpts: 64, LinkUpdateOpts: 16, TestRunOpts: 80, ObjGetOpts: 16 };
  for (const [name, t] of Object.entries({ MapCreateOpts, ProgLoadOpts, BatchOpts, LinkCreateOpts, LinkUpdateOpts, TestRunOpts, ObjGetOpts })) {
    const want = sizes[name as keyof typeof sizes];
    if (koffi.sizeof(t) !== want) throw new KmlibError(ErrorCode.Unsupported, `struct layout mismatch for ${name}: ${koffi.sizeof(t)} != ${want}`);
  }

  const fns = {
    mapCreate: f(lib, "int bpf_map_create(int type, const char *name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, const kmlib_map_create_opts *opts)"),
    progLoad: f(lib, "int bpf_prog_load(int type, const char *name, const char *license, const void *insns, size_t insn_cnt, kmlib_prog_load_opts *opts)"),
    update: f(lib, "int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)"),
    lookup: f(lib, "int bpf_map_lookup_elem_flags(int fd, const void *key, void *value, uint64_t flags)"),
    lookupAndDelete: f(lib, "int bpf_map_lookup_and_delete_elem(int fd, const void *key, void *value)"),
    del: f(lib, "int bpf_map_delete_elem(int fd, const void *key)"),
    nextKey: f(lib, "int bpf_map_get_next_key(int fd, const void *key, void *next_key)"),
    freeze: f(lib, "int bpf_map_freeze(int fd)"),
    lookupBatch: f(lib, "int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, uint32_t *count, const kmlib_map_batch_opts *opts)"),
    lookupAndDeleteBatch: f(lib, "int bpf_map_lookup_and_delete_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, uint32_t *count, const kmlib_map_batch_opts *opts)"),
    updateBatch: f(lib, "int bpf_map_update_batch(int fd, const void *keys, const void *values, uint32_t *count, const kmlib_map_batch_opts *opts)"),
    deleteBatch: f(lib, "int bpf_map_delete_batch(int fd, const void *keys, uint32_t *count, const kmlib_map_batch_opts *opts)"),
    pin: f(lib, "int bpf_obj_pin(int fd, const char *path)"),
    get: f(lib, "int bpf_obj_get_opts(const char *path, const kmlib_obj_get_opts *opts)"),
    info: f(lib, "int bpf_obj_get_info_by_fd(int fd, void *info, uint32_t *info_len)"),
    progNextId: f(lib, "int bpf_prog_get_next_id(uint32_t start, uint32_t *next)"),
    mapNextId: f(lib, "int bpf_map_get_next_id(uint32_t start, uint32_t *next)"),
    linkNextId: f(lib, "int bpf_link_get_next_id(uint32_t start, uint32_t *next)"),
    progById: f(lib, "int bpf_prog_get_fd_by_id(uint32_t id)"),
    mapById: f(lib, "int bpf_map_get_fd_by_id(uint32_t id)"),
    linkById: f(lib, "int bpf_link_get_fd_by_id(uint32_t id)"),
    linkCreate: f(lib, "int bpf_link_create(int prog_fd, int target_fd, int attach_type, const kmlib_link_create_opts *opts)"),
    linkUpdate: f(lib, "int bpf_link_update(int link_fd, int new_prog_fd, const kmlib_link_update_opts *opts)"),
    linkDetach: f(lib, "int bpf_link_detach(int link_fd)"),
    testRun: f(lib, "int bpf_prog_test_run_opts(int prog_fd, _Inout_ kmlib_test_run_opts *opts)"),
    enableStats: f(lib, "int bpf_enable_stats(int type)"),
    numCpus: f(lib, "int libbpf_num_possible_cpus(void)"),
    loadVmlinuxBtf: f(lib, "void *btf__load_vmlinux_btf(void)"),
    btfFind: f(lib, "int btf__find_by_name_kind(void *btf, const char *name, uint32_t kind)"),
    close: f(libc, "int close(int fd)"),
    mmap: f(libc, "void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)"),
    munmap: f(libc, "int munmap(void *addr, size_t length)"),
    getpagesize: f(libc, "int getpagesize(void)"),
    ifNameToIndex: f(libc, "unsigned int if_nametoindex(const char *name)"),
    setns: f(libc, "int setns(int fd, int nstype)"),
  };
  const call = (fn: Fn, ...args: unknown[]) => fn(...args) as number;
  const libcCall = (fn: Fn, ...args: unknown[]) => {
    const r = fn(...args) as number;
    return r < 0 ? -koffi.errno() : r;
  };
  const batch = (f: BatchFlags) => ({ sz: 24, elem_flags: f.elemFlags, flags: f.flags });
  const testRunOpts = (a: TestRunArgs) => ({
    sz: 80, data_in: a.dataIn, data_out: a.dataOut, data_size_in: a.dataIn?.length ?? 0, data_size_out: a.dataOut?.length ?? 0,
    ctx_in: a.ctxIn, ctx_out: a.ctxOut, ctx_size_in: a.ctxIn?.length ?? 0, ctx_size_out: a.ctxOut?.length ?? 0,
    retval: 0, repeat: a.repeat, duration: 0, flags: a.flags, cpu: a.cpu, batch_size: a.batchSize,
  });
  type Out = ReturnType<typeof testRunOpts>;
  const testRunResult = (ret: number, o: Out): TestRunResult =>
    ({ ret, retval: o.retval, duration: o.duration, dataSizeOut: o.data_size_out, ctxSizeOut: o.ctx_size_out });
  const MAP_SHARED = 1;
  // The kernel's BTF is parsed once (a few MB) and kept for the process lifetime.
  let vmlinux: bigint | null = null;
  const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

  return {
    name: "libbpf 1.1 via koffi",
    progLoad: (a: ProgLoadArgs) =>
      call(fns.progLoad, a.type, a.name, a.license, a.insns, a.insns.length / 8, {
        sz: 104, attempts: 0, expected_attach_type: a.expectedAttachType, prog_btf_fd: 0, prog_flags: a.progFlags,
        prog_ifindex: a.ifindex, kern_version: 0, attach_btf_id: a.attachBtfId, attach_prog_fd: a.attachProgFd,
        attach_btf_obj_fd: a.attachBtfObjFd, fd_array: null, func_info: null, func_info_cnt: 0, func_info_rec_size: 0,
        line_info: null, line_info_cnt: 0, line_info_rec_size: 0,
        log_level: a.logBuf ? a.logLevel : 0, log_size: a.logBuf?.length ?? 0, log_buf: a.logBuf,
      }),
    mapCreate: (a: MapCreateArgs) =>
      call(fns.mapCreate, a.type, a.name, a.keySize, a.valueSize, a.maxEntries, {
        sz: 48, btf_fd: 0, btf_key_type_id: 0, btf_value_type_id: 0, btf_vmlinux_value_type_id: 0,
        inner_map_fd: a.innerMapFd, map_flags: a.flags, map_extra: a.mapExtra, numa_node: a.numaNode, map_ifindex: a.ifindex,
      }),
    mapUpdate: (fd, key, value, flags) => call(fns.update, fd, key, value, flags),
    mapLookup: (fd, key, value, flags) => call(fns.lookup, fd, key, value, flags),
    mapLookupAndDelete: (fd, key, value) => call(fns.lookupAndDelete, fd, key, value),
    mapDelete: (fd, key) => call(fns.del, fd, key),
    mapGetNextKey: (fd, key, next) => call(fns.nextKey, fd, key, next),
    mapFreeze: (fd) => call(fns.freeze, fd),
    mapLookupBatch: (fd, inB, outB, keys, values, count, fl) => call(fns.lookupBatch, fd, inB, outB, keys, values, count, batch(fl)),
    mapLookupAndDeleteBatch: (fd, inB, outB, keys, values, count, fl) =>
      call(fns.lookupAndDeleteBatch, fd, inB, outB, keys, values, count, batch(fl)),
    mapUpdateBatch: (fd, keys, values, count, fl) => call(fns.updateBatch, fd, keys, values, count, batch(fl)),
    mapDeleteBatch: (fd, keys, count, fl) => call(fns.deleteBatch, fd, keys, count, batch(fl)),
    objPin: (fd, path) => call(fns.pin, fd, path),
    objGet: (path, fileFlags) => call(fns.get, path, { sz: 16, file_flags: fileFlags, pad: 0 }),
    objGetInfo: (fd, info, len) => call(fns.info, fd, info, len),
    getNextId: (kind, start, next) =>
      call(kind === "prog" ? fns.progNextId : kind === "map" ? fns.mapNextId : fns.linkNextId, start, next),
    getFdById: (kind, id) => call(kind === "prog" ? fns.progById : kind === "map" ? fns.mapById : fns.linkById, id),
    linkCreate: (a: LinkCreateArgs) =>
      call(fns.linkCreate, a.progFd, a.targetFd, a.attachType, { sz: 64, flags: a.flags, iter_info: null, iter_info_len: 0, target_btf_id: 0, reserved: [0n, 0n, 0n, 0n] }),
    linkUpdate: (linkFd, newProgFd, flags, oldProgFd) => call(fns.linkUpdate, linkFd, newProgFd, { sz: 16, flags, old_prog_fd: oldProgFd }),
    linkDetach: (linkFd) => call(fns.linkDetach, linkFd),
    progTestRun: (fd, a) => {
      const o = testRunOpts(a);
      return testRunResult(call(fns.testRun, fd, o), o);
    },
    progTestRunAsync: (fd, a) =>
      new Promise((resolve, reject) => {
        const o = testRunOpts(a);
        fns.testRun.async(fd, o, (err: unknown, ret: number) => (err ? reject(err) : resolve(testRunResult(ret, o))));
      }),
    enableStats: (type) => call(fns.enableStats, type),
    numPossibleCpus: () => call(fns.numCpus),
    pageSize: () => call(fns.getpagesize),
    close: (fd) => libcCall(fns.close, fd),
    mmap: (fd, length, prot, offset): Mapping => {
      const addr = fns.mmap(null, length, prot, MAP_SHARED, fd, offset) as bigint | null;
      if (addr === null || addr === MAP_FAILED) return { addr: 0n, err: -koffi.errno() };
      return { addr, err: 0 };
    },
    munmap: (addr, length) => libcCall(fns.munmap, addr, length),
    view: (addr, length) => koffi.view(addr, length),
    watchReadable: (fd, onReadable): FdWatch => {
      const h = koffi.node.poll(fd, { readable: true }, () => onReadable());
      return { close: () => h.close() };
    },
    vmlinuxBtfId: (name, kind) => {
      vmlinux ??= fns.loadVmlinuxBtf() as bigint | null;
      if (vmlinux === null) return -koffi.errno();
      return call(fns.btfFind, vmlinux, name, kind);
    },
    ifNameToIndex: (name) => {
      const r = fns.ifNameToIndex(name) as number;
      return r === 0 ? -koffi.errno() : r;
    },
    setns: (fd, nstype) => libcCall(fns.setns, fd, nstype),
  };
}

let real: BpfSys | undefined;
export function libbpfSys(): BpfSys {
  real ??= build();
  return real;
}
