import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";

/** What the figures were measured on. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  loadAverageAtStart: number[];
  git: { commit: string; dirty: string[] };
}

/** Cores, CPU, memory, Node, and the commit (with the files under src/ that differ from it). */
export function machineInfo(): MachineInfo {
  const git = (args: string[]) => {
    try {
      return execFileSync("git", args, { encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    git: {
      commit: git(["rev-parse", "--short", "HEAD"]),
      dirty: git(["status", "--porcelain", "--", "src", "next.config.ts"]).split("\n").filter(Boolean),
    },
  };
}
