import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, type Config } from "./index";

const CWD = "/srv/app";
const SECRET_A = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET_B = "whsec_" + Buffer.from("a second secret for rotation").toString("base64");
const SECRET_C = "whsec_" + Buffer.from("a third one").toString("base64");

function load(env: Record<string, string | undefined>): Config {
  return loadConfig(env as NodeJS.ProcessEnv, CWD);
}

/** Loads `env`, expecting a ConfigError; returns it. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig defaults", () => {
  it("gives every documented default for an empty environment", () => {
    expect(load({})).toEqual({
      production: false,
      dataDir: "/srv/app/.data",
      database: { kind: "pglite", dataDir: "/srv/app/.data/pglite" },
      webhookSecrets: [],
      stack: { apiUrl: "https://api.stack-auth.com", projectId: undefined, secretServerKey: undefined },
      syncAnonymousUsers: false,
      passwordHashRounds: 12,
      port: 3000,
      eventLogRetentionDays: 7,
    } satisfies Config);
  });

  it("treats empty and whitespace-only values as unset", () => {
    const blank = {
      DATABASE_URL: "",
      STACK_WEBHOOK_SECRET: "  ",
      STACK_API_URL: "",
      STACK_PROJECT_ID: " ",
      STACK_SECRET_SERVER_KEY: "",
      SYNC_ANONYMOUS_USERS: "",
      PASSWORD_HASH_ROUNDS: " ",
      PORT: "",
      EVENT_LOG_RETENTION_DAYS: "\t",
    };
    expect(load(blank)).toEqual(load({}));
  });

  it("is in production only when NODE_ENV is production", () => {
    expect(load({ NODE_ENV: "production" }).production).toBe(true);
    expect(load({ NODE_ENV: "development" }).production).toBe(false);
    expect(load({ NODE_ENV: "test" }).production).toBe(false);
  });
});

describe("DATABASE_URL", () => {
  it("memory: gives an in-memory PGlite", () => {
    expect(load({ DATABASE_URL: "memory:" }).database).toEqual({ kind: "pglite", dataDir: null });
  });

  it.each(["postgres://user:pw@db.example.com:5432/app", "postgresql://localhost/app?sslmode=require"])(
    "%s gives PostgreSQL at that URL",
    (url) => {
      expect(load({ DATABASE_URL: url }).database).toEqual({ kind: "postgres", url });
    },
  );

  it("trims surrounding whitespace from the URL", () => {
    expect(load({ DATABASE_URL: "  postgres://localhost/app \n" }).database).toEqual({
      kind: "postgres",
      url: "postgres://localhost/app",
    });
  });

  it.each(["mysql://localhost/app", "postgres://", "memory", "file:./dev.db", "localhost:5432"])(
    "refuses %s",
    (url) => {
      expect(configError({ DATABASE_URL: url }).variable).toBe("DATABASE_URL");
    },
  );
});

describe("STACK_WEBHOOK_SECRET", () => {
  it("reads one secret", () => {
    expect(load({ STACK_WEBHOOK_SECRET: SECRET_A }).webhookSecrets).toEqual([SECRET_A]);
  });

  it("splits a list on spaces, commas and both", () => {
    const expected = [SECRET_A, SECRET_B, SECRET_C];
    expect(load({ STACK_WEBHOOK_SECRET: `${SECRET_A} ${SECRET_B} ${SECRET_C}` }).webhookSecrets).toEqual(
      expected,
    );
    expect(load({ STACK_WEBHOOK_SECRET: `${SECRET_A},${SECRET_B},${SECRET_C}` }).webhookSecrets).toEqual(
      expected,
    );
    expect(
      load({ STACK_WEBHOOK_SECRET: ` ${SECRET_A} ,  ${SECRET_B},\n${SECRET_C}, ` }).webhookSecrets,
    ).toEqual(expected);
  });

  it.each([
    ["a secret without the whsec_ prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ["a secret with characters outside base64", "whsec_not-base64!"],
    ["a bare prefix", "whsec_"],
    ["a good secret next to a bad one", `${SECRET_A},oops`],
    ["only separators", ", ,"],
  ])("refuses %s", (_label, value) => {
    expect(configError({ STACK_WEBHOOK_SECRET: value }).variable).toBe("STACK_WEBHOOK_SECRET");
  });

  it("does not repeat the bad secret in the error", () => {
    const error = configError({ STACK_WEBHOOK_SECRET: "whsec_topsecret%%value" });
    expect(error.message).not.toContain("topsecret");
  });
});

describe("STACK_API_URL, STACK_PROJECT_ID, STACK_SECRET_SERVER_KEY", () => {
  it("reads the API URL and drops trailing slashes", () => {
    expect(load({ STACK_API_URL: "http://localhost:8102//" }).stack.apiUrl).toBe("http://localhost:8102");
    expect(load({ STACK_API_URL: "https://stack.example.com/base/" }).stack.apiUrl).toBe(
      "https://stack.example.com/base",
    );
  });

  it.each(["ftp://api.stack-auth.com", "api.stack-auth.com", "not a url"])(
    "refuses the API URL %s",
    (url) => {
      expect(configError({ STACK_API_URL: url }).variable).toBe("STACK_API_URL");
    },
  );

  it("reads the project id and the server key together", () => {
    expect(load({ STACK_PROJECT_ID: "proj-1", STACK_SECRET_SERVER_KEY: "ssk_abc" }).stack).toEqual({
      apiUrl: "https://api.stack-auth.com",
      projectId: "proj-1",
      secretServerKey: "ssk_abc",
    });
  });

  it("reads a project id without a server key", () => {
    expect(load({ STACK_PROJECT_ID: "proj-1" }).stack.projectId).toBe("proj-1");
    expect(load({ STACK_PROJECT_ID: "proj-1" }).stack.secretServerKey).toBeUndefined();
  });

  it("refuses STACK_SECRET_SERVER_KEY without STACK_PROJECT_ID, naming STACK_PROJECT_ID", () => {
    const error = configError({ STACK_SECRET_SERVER_KEY: "ssk_secret_value" });
    expect(error.variable).toBe("STACK_PROJECT_ID");
    expect(error.message).toContain("STACK_SECRET_SERVER_KEY");
    expect(error.message).not.toContain("ssk_secret_value");
  });
});

describe("SYNC_ANONYMOUS_USERS", () => {
  it.each([
    ["true", true],
    ["1", true],
    ["yes", true],
    ["false", false],
    ["0", false],
    ["no", false],
  ])("reads %s as %s", (value, expected) => {
    expect(load({ SYNC_ANONYMOUS_USERS: value }).syncAnonymousUsers).toBe(expected);
  });

  it.each(["maybe", "2", "on", "t"])("refuses %s", (value) => {
    expect(configError({ SYNC_ANONYMOUS_USERS: value }).variable).toBe("SYNC_ANONYMOUS_USERS");
  });
});

describe("whole-number variables", () => {
  it.each([
    ["PASSWORD_HASH_ROUNDS", "4", "passwordHashRounds", 4],
    ["PASSWORD_HASH_ROUNDS", "31", "passwordHashRounds", 31],
    ["PORT", "1", "port", 1],
    ["PORT", "65535", "port", 65535],
    ["PORT", " 8080 ", "port", 8080],
    ["EVENT_LOG_RETENTION_DAYS", "2", "eventLogRetentionDays", 2],
    ["EVENT_LOG_RETENTION_DAYS", "3650", "eventLogRetentionDays", 3650],
  ] as const)("reads %s=%s", (variable, value, key, expected) => {
    expect(load({ [variable]: value })[key]).toBe(expected);
  });

  it.each([
    ["PASSWORD_HASH_ROUNDS", "3"],
    ["PASSWORD_HASH_ROUNDS", "32"],
    ["PASSWORD_HASH_ROUNDS", "12.5"],
    ["PASSWORD_HASH_ROUNDS", "-12"],
    ["PASSWORD_HASH_ROUNDS", "twelve"],
    ["PORT", "0"],
    ["PORT", "65536"],
    ["PORT", "80a"],
    ["PORT", "1e3"],
    ["EVENT_LOG_RETENTION_DAYS", "1"],
    ["EVENT_LOG_RETENTION_DAYS", "3651"],
    ["EVENT_LOG_RETENTION_DAYS", "7d"],
  ])("refuses %s=%s", (variable, value) => {
    expect(configError({ [variable]: value }).variable).toBe(variable);
  });
});

describe("ConfigError", () => {
  const bad: Record<string, string> = {
    DATABASE_URL: "mysql://x",
    STACK_WEBHOOK_SECRET: "nope",
    STACK_API_URL: "nope",
    SYNC_ANONYMOUS_USERS: "nope",
    PASSWORD_HASH_ROUNDS: "nope",
    PORT: "nope",
    EVENT_LOG_RETENTION_DAYS: "nope",
  };

  it.each(Object.entries(bad))(
    "for a bad %s is one line that starts with the variable's name",
    (variable, value) => {
      const error = configError({ [variable]: value });
      expect(error.name).toBe("ConfigError");
      expect(error.variable).toBe(variable);
      expect(error.message.startsWith(`${variable}: `)).toBe(true);
      expect(error.message).not.toMatch(/[\r\n]/);
      expect(error.message.length).toBeGreaterThan(variable.length + 10);
    },
  );

  it("names the bad variable when the others are fine", () => {
    const error = configError({
      DATABASE_URL: "memory:",
      STACK_WEBHOOK_SECRET: SECRET_A,
      PASSWORD_HASH_ROUNDS: "10",
      PORT: "99999",
    });
    expect(error.variable).toBe("PORT");
  });
});

describe("a full environment", () => {
  it("reads every variable", () => {
    expect(
      load({
        NODE_ENV: "production",
        DATABASE_URL: "postgresql://app@db/app",
        STACK_WEBHOOK_SECRET: `${SECRET_A} ${SECRET_B}`,
        STACK_API_URL: "https://stack.example.com",
        STACK_PROJECT_ID: "proj",
        STACK_SECRET_SERVER_KEY: "ssk_x",
        SYNC_ANONYMOUS_USERS: "true",
        PASSWORD_HASH_ROUNDS: "10",
        PORT: "8080",
        EVENT_LOG_RETENTION_DAYS: "30",
      }),
    ).toEqual({
      production: true,
      dataDir: "/srv/app/.data",
      database: { kind: "postgres", url: "postgresql://app@db/app" },
      webhookSecrets: [SECRET_A, SECRET_B],
      stack: { apiUrl: "https://stack.example.com", projectId: "proj", secretServerKey: "ssk_x" },
      syncAnonymousUsers: true,
      passwordHashRounds: 10,
      port: 8080,
      eventLogRetentionDays: 30,
    } satisfies Config);
  });
});
