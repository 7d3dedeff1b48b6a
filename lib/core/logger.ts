import { randomUUID } from 'node:crypto';

/**
 * Where the library writes its log entries: pino, bunyan-style and console-like loggers fit as
 * they are (`createAuthServer({ logger: pino() })`). Each method takes the entry's structured
 * fields first and its message second, like pino's `logger.error(obj, msg)`.
 *
 * Entries never carry a token, a client secret, a registration access token, a password,
 * attestation evidence, a cookie, an `Authorization` header or a query string. A logger that
 * throws is ignored: logging never fails a request.
 *
 * @group Logging
 */
export interface Logger {
  /** Something failed that an operator must look at: an unexpected 500, a storage outage. */
  error(fields: Record<string, unknown>, message: string): void;
  /** Something is wrong but the server carries on: development keys, a lost Redis connection. */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Something an operator may want to know: storage available again after an outage. */
  info(fields: Record<string, unknown>, message: string): void;
  /** Detail for troubleshooting: every refused request (4xx) and its OAuth error code. */
  debug(fields: Record<string, unknown>, message: string): void;
}

/** The levels of {@link Logger}, most severe first. @internal */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

function line(message: string, fields: Record<string, unknown>): string[] {
  const text = `mobile-oidc-provider: ${message}`;
  if (Object.keys(fields).length === 0) return [text];
  try {
    return [text, JSON.stringify(fields)];
  } catch {
    return [text, '(fields not serializable)'];
  }
}

/**
 * The default {@link Logger}: `error` entries go to `console.error`, `warn` entries to
 * `console.warn`, one line each (`mobile-oidc-provider: <message> <fields as JSON>`); `info` and
 * `debug` entries are dropped. Pass your own logger to see those too.
 *
 * @group Logging
 */
export const consoleLogger: Logger = {
  error: (fields, message) => console.error(...line(message, fields)),
  warn: (fields, message) => console.warn(...line(message, fields)),
  info: () => {},
  debug: () => {},
};

/**
 * `logger` with every call made safe: a logger that throws (or is missing a method at run time)
 * never breaks the code that logs.
 *
 * @internal
 */
export function safeLogger(logger: Logger): Logger {
  const level =
    (name: (typeof LOG_LEVELS)[number]) => (fields: Record<string, unknown>, message: string) => {
      try {
        logger[name](fields, message);
      } catch {
        // Nowhere left to report it.
      }
    };
  return { error: level('error'), warn: level('warn'), info: level('info'), debug: level('debug') };
}

const MAX_CAUSES = 3;

/**
 * What a log entry says about an error: its name, message, `code` and `stack`, and the same
 * (without stack) for up to three `cause`s. Never the error's other properties: a store error may
 * carry the command it failed on, with the record it was writing.
 *
 * @internal
 */
export function errorFields(error: unknown, stack = true, depth = 0): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const { code } = error as { code?: unknown };
  const fields: Record<string, unknown> = { name: error.name, message: error.message };
  if (typeof code === 'string' || typeof code === 'number') fields.code = code;
  if (stack && error.stack) fields.stack = error.stack;
  if (error.cause !== undefined && depth < MAX_CAUSES) {
    fields.cause = errorFields(error.cause, false, depth + 1);
  }
  return fields;
}

/** An incoming `X-Request-Id` is used when it is 1–128 characters of these. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:+=/-]{1,128}$/;

/**
 * The request id to use: `incoming` (a `X-Request-Id` header) when it is short and safe to
 * print, else a new random UUID.
 *
 * @internal
 */
export function requestIdFrom(incoming: unknown): string {
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Path segments at least this long are identifiers (client ids, interaction uids), not names. */
const ID_SEGMENT_LENGTH = 16;

/**
 * A request path fit for a log entry: segments of 16 or more characters that are not plain
 * lowercase words (`openid-configuration`) become `:id`, so no interaction uid (which is also a
 * cookie's value) or other identifier is logged. The query string is never part of it.
 *
 * @internal
 */
export function loggablePath(path: string): string {
  return path
    .split('/')
    .map((segment) =>
      segment.length >= ID_SEGMENT_LENGTH && !/^[a-z.-]+$/.test(segment) ? ':id' : segment,
    )
    .join('/');
}
