import type { NextConfig } from "next";

const nextConfig: NextConfig = {
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
  agentRules: false,
  experimental: { agentUpgrade: false },
};

export default nextConfig;
