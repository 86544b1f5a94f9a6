import { readFileSync } from "node:fs";
import { processTree } from "./proc";

/** Peak resident memory of a process and its descendants, sampled from /proc. */
export class RssSampler {
  private peakKiB = 0;
  private timer: NodeJS.Timeout | null = null;
  private tree: number[] = [];
  private ticks = 0;

  constructor(private readonly pid: number) {}

  /** Starts sampling every `intervalMs`, from a fresh peak. */
  start(intervalMs = 100): void {
    this.stop();
    this.peakKiB = 0;
    this.tree = processTree([this.pid]);
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Stops sampling; returns the peak sum of VmRSS over the tree, MiB. */
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return this.peakKiB / 1024;
  }

  /** The kernel's own high-water mark (VmHWM) summed over the tree, MiB: the peak since the server started. */
  lifetimePeakMiB(): number {
    return processTree([this.pid]).reduce((sum, pid) => sum + statusKiB(pid, "VmHWM"), 0) / 1024;
  }

  private sample(): void {
    // Children can come and go (workers); look again now and then.
    if (++this.ticks % 20 === 0) this.tree = processTree([this.pid]);
    const kib = this.tree.reduce((sum, pid) => sum + statusKiB(pid, "VmRSS"), 0);
    this.peakKiB = Math.max(this.peakKiB, kib);
  }
}

function statusKiB(pid: number, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
