import { existsSync, writeFileSync } from "node:fs";
import type { NextConfig } from "next";

const distDir = process.env.NEXT_DIST_DIR ?? ".next";

/**
 * Next.js writes `<distDir>/types` into the tsconfig it builds with. Builds in another folder (tests and
 * benchmarks building side by side) get a scratch tsconfig of their own, so tsconfig.json stays as committed.
 */
function tsconfigFor(dir: string): string | undefined {
  if (dir === ".next") return undefined;
  const path = `${dir}.tsconfig.json`;
  if (!existsSync(path)) writeFileSync(path, `${JSON.stringify({ extends: "./tsconfig.json" }, null, 2)}\n`);
  return path;
}

const nextConfig: NextConfig = {
  // Separate build folders let tests and benchmarks build side by side (NEXT_DIST_DIR=.next-bench).
  distDir,
  // Bench-only routes (`route.bench.ts`, the seed design for `npm run bench`) exist only in a build made with
  // STACK_SYNC_BENCH=1; a normal build never sees them.
  pageExtensions: ["tsx", "ts", "jsx", "js", ...(process.env.STACK_SYNC_BENCH === "1" ? ["bench.ts"] : [])],
  // Native, WASM and driver packages run from node_modules as they are, not bundled.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@prisma/client",
    "@prisma/adapter-pg",
    "pg",
    "bcrypt",
    "piscina",
    "pino",
    "pino-pretty",
  ],
  poweredByHeader: false,
  // `npm run typecheck` checks the whole project (tests included) in CI; the build need not do it again.
  typescript: { ignoreBuildErrors: true, tsconfigPath: tsconfigFor(distDir) },
  agentRules: false,
  experimental: { agentUpgrade: false },
};

export default nextConfig;
