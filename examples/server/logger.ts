import type { Logger } from 'mobile-oidc-provider';

/** The levels the example logs at, most severe first; `silent` logs nothing. */
const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
type Level = (typeof LEVELS)[number];

/** What {@link jsonLinesLogger} logs from. */
export type LogLevel = Level | 'silent';

/**
 * A tiny JSON-lines logger: one object per line, `{"level","time","msg",…fields}`, for entries
 * at `level` and more severe. Any log shipper (or `jq`) reads it; in production, pino does the
 * same and more (`createAuthServer({ logger: pino() })`).
 */
export function jsonLinesLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const threshold = level === 'silent' ? -1 : LEVELS.indexOf(level);
  const at = (entryLevel: Level) => (fields: Record<string, unknown>, msg: string) => {
    if (LEVELS.indexOf(entryLevel) > threshold) return;
    // The entry's own keys come last: a field cannot pass for them.
    const entry = { ...fields, level: entryLevel, time: new Date().toISOString(), msg };
    write(`${JSON.stringify(entry)}\n`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** `LOG_LEVEL` if it names a level; else `info`, or `silent` under `NODE_ENV=test`. */
export function logLevelFrom(env: { LOG_LEVEL?: string; NODE_ENV?: string }): LogLevel {
  const named = env.LOG_LEVEL as LogLevel | undefined;
  if (named && (named === 'silent' || LEVELS.includes(named as Level))) return named;
  return env.NODE_ENV === 'test' ? 'silent' : 'info';
}
