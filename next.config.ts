import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Separate build folders let tests and benchmarks build side by side (NEXT_DIST_DIR=.next-bench).
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
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
  typescript: { ignoreBuildErrors: true },
  agentRules: false,
  experimental: { agentUpgrade: false },
};

export default nextConfig;
