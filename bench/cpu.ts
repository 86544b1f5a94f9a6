import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { processTree, statFields } from "./proc";

/** Where the machine's CPU went during one measured level. */
export interface CpuUse {
  /** Busy share of the whole machine, 0–100. */
  busyPercent: number;
  /** Part of it taken by processes that are not the bench, its server or its PostgreSQL, 0–100. */
  foreignPercent: number;
  /**
   * CPU time per completed event, ms, by process: the server (Next.js, our handler, bcrypt's threads),
   * PostgreSQL (all its backends) and the bench's own client. Unlike throughput, these barely move when
   * other work shares the machine, so they compare designs fairly on a noisy machine.
   */
  msPerEvent: { server: number; postgres: number; client: number };
}

const TICK_MS = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim() || 100);

interface Snapshot {
  total: number;
  idle: number;
  server: number;
  postgres: number;
  client: number;
  /** CPU of the bench's children that ended (a reconcile run): their time lands in its cutime. */
  reaped: number;
}

/**
 * Measures where CPU time went during an interval: total busy time from /proc/stat, and the time of the
 * bench's own processes (reaped PostgreSQL backends count through the postmaster's cutime).
 */
export class CpuMeter {
  private start: Snapshot | null = null;

  /** `serverPid` is null while no server runs (database-limit levels). */
  constructor(
    private readonly serverPid: () => number | null,
    private readonly postmasterPid: () => number,
  ) {}

  begin(): void {
    this.start = this.snapshot();
  }

  /** CPU use since `begin`, with per-event costs over `events` completed events. */
  end(events: number): CpuUse {
    const now = this.snapshot();
    const from = this.start ?? now;
    const total = Math.max(1, now.total - from.total);
    const busy = total - (now.idle - from.idle);
    const ours = (["server", "postgres", "client", "reaped"] as const).reduce(
      (sum, k) => sum + now[k] - from[k],
      0,
    );
    const perEvent = (k: "server" | "postgres" | "client") =>
      ((now[k] - from[k]) * TICK_MS) / Math.max(1, events);
    return {
      busyPercent: (busy * 100) / total,
      foreignPercent: (Math.max(0, busy - ours) * 100) / total,
      msPerEvent: { server: perEvent("server"), postgres: perEvent("postgres"), client: perEvent("client") },
    };
  }

  private snapshot(): Snapshot {
    const cpu = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const server = this.serverPid();
    return {
      total: cpu.reduce((a, b) => a + b, 0),
      // idle + iowait
      idle: (cpu[3] ?? 0) + (cpu[4] ?? 0),
      server: server === null ? 0 : processTree([server]).reduce((sum, pid) => sum + ticks(pid, true), 0),
      postgres: processTree([this.postmasterPid()]).reduce((sum, pid) => sum + ticks(pid, true), 0),
      client: ticks(process.pid, false),
      reaped: ticks(process.pid, true) - ticks(process.pid, false),
    };
  }
}

/** utime + stime (+ cutime + cstime: reaped children) of a process, in clock ticks. */
function ticks(pid: number, withChildren: boolean): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
  return (withChildren ? [11, 12, 13, 14] : [11, 12]).reduce((sum, i) => sum + Number(f[i] ?? 0), 0);
}
