import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; every request logs through a child carrying its request id. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'loyalty', ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', '*.authorization'], censor: '[redacted]' },
  });
}
