/**
 * @module bpf/fd
 * Base class of everything that holds a kernel file descriptor (programs, maps, links, ring
 * buffers, statistics handles): `close()` is idempotent, `[Symbol.dispose]` closes, and any
 * use after close throws KMLIB_CLOSED naming the object instead of reaching the kernel with
 * a stale (possibly reused) descriptor number.
 */
import { ErrorCode, KmlibError } from "../errors.ts";
import { bpfSys, type BpfSys } from "./sys/index.ts";

export abstract class FdObject {
  #fd: number;
  readonly sys: BpfSys;

  constructor(fd: number, sys: BpfSys = bpfSys()) {
    this.#fd = fd;
    this.sys = sys;
  }

  /** What this is, for messages: `program "xdp_count"`, `map "counts"`. */
  abstract describe(): string;

  /** The descriptor; throws KMLIB_CLOSED after close(). */
  get fd(): number {
    if (this.#fd < 0) throw new KmlibError(ErrorCode.Closed, `${this.describe()} is closed (its file descriptor was released)`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    this.onClose();
    this.sys.close(fd);
  }

  /** Subclasses release what they hold besides the descriptor (mappings, watches). */
  protected onClose(): void {}

  [Symbol.dispose](): void {
    this.close();
  }
}
