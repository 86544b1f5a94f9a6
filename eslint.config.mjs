import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [
      "node_modules/**",
      ".next/**",
      ".next-*/**",
      "test-results/**",
      ".data/**",
      "src/generated/**",
      "next-env.d.ts",
      "bench-results/**",
    ],
  },
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Turbopack does not map `./x.js` to `./x.ts`: relative imports go without an extension.
      "no-restricted-syntax": [
        "error",
        {
          selector: "ImportDeclaration[source.value=/^\\.{1,2}\\/.*\\.js$/]",
          message: "Import relative modules without the .js extension (Turbopack does not map .js to .ts).",
        },
        {
          selector: "ImportExpression[source.value=/^\\.{1,2}\\/.*\\.js$/]",
          message: "Import relative modules without the .js extension (Turbopack does not map .js to .ts).",
        },
      ],
    },
  },
  {
    // CommonJS files (the hashing pool's worker task) are loaded by require() outside the bundler.
    files: ["**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
];
export default config;
