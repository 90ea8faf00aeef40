/**
 * @module cli/progress
 * Phase-by-phase progress on stderr for long commands: `▸ phase … done (1.2 s)`. On a terminal
 * the running phase shows elapsed time; without one (CI) each phase is one line. Silent when
 * `quiet` (e.g. with --json, so stdout stays machine-readable and stderr stays calm).
 */
export class Progress {
  #timer: NodeJS.Timeout | undefined;
  constructor(private readonly quiet = false, private readonly out: NodeJS.WriteStream = process.stderr) {}

  async phase<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const t0 = Date.now();
    const tty = this.out.isTTY && !this.quiet;
    if (tty) {
      this.out.write(`▸ ${name} …`);
      this.#timer = setInterval(() => this.out.write(`\r▸ ${name} … ${((Date.now() - t0) / 1000).toFixed(1)} s`), 200);
    } else if (!this.quiet) {
      this.out.write(`▸ ${name} …\n`);
    }
    try {
      const r = await fn();
      this.#end(`${tty ? "\r" : ""}✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`, tty);
      return r;
    } catch (e) {
      this.#end(`${tty ? "\r" : ""}✘ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`, tty);
      throw e;
    }
  }

  /** A line of information between phases. */
  info(text: string): void {
    if (!this.quiet) this.out.write(`  ${text}\n`);
  }

  #end(line: string, tty: boolean): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.quiet) return;
    if (tty) this.out.write("\x1b[2K");
    this.out.write(line);
  }
}
