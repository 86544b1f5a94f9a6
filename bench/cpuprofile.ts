import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A function's own (self) time in a profile. */
export interface Frame {
  name: string;
  /** Where it lives: file (relative to node_modules or the build) and line. */
  location: string;
  /** node_modules package, `node`, `app` (our bundled code), or a V8 pseudo-frame. */
  area: string;
  selfMs: number;
  /** Share of the non-idle time, 0–100. */
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  frames: Frame[];
  /** Self time summed by area, busiest first. */
  areas: { area: string; selfMs: number; percent: number }[];
}

/**
 * Self time per function and per area from a `.cpuprofile` (V8's format, as `--cpu-prof` writes it),
 * counting only samples inside `window` (µs of CLOCK_MONOTONIC, the clock of `process.hrtime`) when given.
 */
export function analyse(file: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // timeDeltas[i + 1] is the time from sample i to the next: the time sample i stands for.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at >= window.toUs)) continue;
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  }
  const frames = new Map<string, Frame>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idleMs += ms;
      continue;
    }
    const location = url ? `${shortUrl(url)}:${lineNumber + 1}` : "";
    const key = `${functionName}@${location}`;
    const frame = frames.get(key) ?? {
      name: functionName || "(anonymous)",
      location,
      area: area(url, functionName),
      selfMs: 0,
      percent: 0,
    };
    frame.selfMs += ms;
    frames.set(key, frame);
  }
  const busy = totalMs - idleMs;
  const list = [...frames.values()].map((f) => ({ ...f, percent: (f.selfMs * 100) / busy }));
  list.sort((a, b) => b.selfMs - a.selfMs);
  const areas = new Map<string, number>();
  for (const f of list) areas.set(f.area, (areas.get(f.area) ?? 0) + f.selfMs);
  return {
    totalMs,
    idleMs,
    frames: list,
    areas: [...areas.entries()]
      .map(([name, selfMs]) => ({ area: name, selfMs, percent: (selfMs * 100) / busy }))
      .sort((a, b) => b.selfMs - a.selfMs),
  };
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) return url.slice(nm + "/node_modules/".length);
  const build = url.indexOf("/.next-bench/");
  if (build >= 0) return url.slice(build + 1);
  return url.replace(/^file:\/\//, "");
}

function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? "?");
  }
  return url.includes("/.next-bench/") ? "app (bundled src/)" : "other";
}
