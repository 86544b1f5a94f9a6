import { readdirSync, readFileSync } from "node:fs";
import bcrypt from "bcrypt";
import { describe, expect, it } from "vitest";
import { makeUnusablePassword } from "./password";

/** The nice value of each thread of this process, by thread id (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceness(): Map<number, number> {
  const niceness = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces; field 3 comes first.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    niceness.set(Number(tid), Number(fields[19 - 3]));
  }
  return niceness;
}

describe("makeUnusablePassword", () => {
  it("gives a distinct bcrypt hash of the requested cost on each call", async () => {
    const hashes = await Promise.all([4, 4, 5, 5, 4].map((rounds) => makeUnusablePassword(rounds)));
    expect(hashes.map((hash) => bcrypt.getRounds(hash))).toEqual([4, 4, 5, 5, 4]);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it.runIf(process.platform === "linux")(
    "hashes on threads at the lowest priority and leaves the main thread's alone",
    async () => {
      const mainBefore = threadNiceness().get(process.pid);
      await Promise.all([makeUnusablePassword(4), makeUnusablePassword(4)]);
      const after = threadNiceness();
      expect(after.get(process.pid)).toBe(mainBefore);
      expect([...after.values()].filter((nice) => nice === 19).length).toBeGreaterThanOrEqual(1);
    },
  );
});
