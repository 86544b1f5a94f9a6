import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Separate build folders let tests and benchmarks build side by side (NEXT_DIST_DIR=.next-bench).
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
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
    "pino",
    "pino-pretty",
  ],
  poweredByHeader: false,
  // `npm run typecheck` checks the whole project (tests included) in CI; the build need not do it again.
  typescript: {
    ignoreBuildErrors: true,
    // Next adds its distDir's types to the tsconfig it builds with: a bench build edits the bench's copy.
    ...(process.env.STACK_SYNC_BENCH === "1" && { tsconfigPath: "bench/tsconfig.next.json" }),
  },
  agentRules: false,
  experimental: { agentUpgrade: false },
};

export default nextConfig;
