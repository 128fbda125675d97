// pino logger with every place a key or credential could sit redacted. The proxy never logs headers
// or bodies on purpose; redaction is the second line of defence.
import { pino, type Logger, type DestinationStream } from 'pino';

// Plain paths only: wildcard paths make every log call several times slower.
export const REDACTED_PATHS = [
  'headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'apiKey',
  'anthropicApiKey',
  'sharedSecret',
  'legacyDummyKey',
  'credential',
  'token',
  'config.anthropicApiKey',
  'config.sharedSecret',
  'config.legacyDummyKey',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'api-proxy' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
