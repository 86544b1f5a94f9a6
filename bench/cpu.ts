import { readFileSync } from "node:fs";
import { processTree, statFields } from "./proc";

/** CPU used by processes outside the bench (other engineers' tests, builds), as a share of all cores. */
export interface Noise {
  /** Busy share of the whole machine during the interval, 0–100. */
  busyPercent: number;
  /** Part of it used by processes that are not the bench, its server or its PostgreSQL, 0–100. */
  foreignPercent: number;
}

/**
 * Measures how much of the machine other processes took during an interval: total busy time from
 * /proc/stat minus the time of the bench's own process trees (including reaped children, via cutime).
 */
export class NoiseMeter {
  private start: { total: number; idle: number; ours: number } | null = null;

  /** `roots` returns the roots of the bench's own process trees (the bench, the postmaster). */
  constructor(private readonly roots: () => number[]) {}

  begin(): void {
    this.start = this.snapshot();
  }

  end(): Noise {
    const now = this.snapshot();
    const from = this.start ?? now;
    const total = now.total - from.total;
    if (total <= 0) return { busyPercent: 0, foreignPercent: 0 };
    const busy = total - (now.idle - from.idle);
    const foreign = Math.max(0, busy - (now.ours - from.ours));
    return { busyPercent: (busy * 100) / total, foreignPercent: (foreign * 100) / total };
  }

  private snapshot() {
    const cpu = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    // idle + iowait
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    let ours = 0;
    for (const pid of processTree(this.roots())) ours += cpuTicks(pid);
    return { total, idle, ours };
  }
}

/** utime + stime + cutime + cstime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const f = statFields(pid);
  // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
  return f ? [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i] ?? 0), 0) : 0;
}
