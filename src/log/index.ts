import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/**
 * Paths never written to the logs as they are: secrets and emails. Emails are masked by `maskEmail`
 * where a line needs one; these catch any that slip into a logged object.
 */
const REDACT = [
  "secret",
  "secrets",
  "*.secret",
  "*.secrets",
  "email",
  "*.email",
  "primary_email",
  "*.primary_email",
  "password",
  "*.password",
  "headers['svix-signature']",
  "headers['webhook-signature']",
  "headers['x-stack-secret-server-key']",
];

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines (development); JSON otherwise. */
  pretty?: boolean;
}

/** The service's logger: JSON lines with secrets and emails redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  const base = { level, redact: { paths: REDACT, censor: "[redacted]" }, base: { service: "stack-sync" } };
  if (options.pretty) {
    return pino({
      ...base,
      transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname,service" } },
    });
  }
  return pino(base);
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** `jane.doe@example.com` → `j***@e***.com`: enough to tell emails apart in an incident, not to read them. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "***";
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf(".");
  const tld = dot > 0 ? domain.slice(dot) : "";
  return `${email[0]}***@${domain[0] ?? ""}***${tld}`;
}
