const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `1d`, `500ms` → milliseconds; null when it is not such a duration. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * (UNITS[match[2] ?? ""] ?? NaN);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}
