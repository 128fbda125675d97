// pino logger with every place a key or credential could sit redacted. The proxy never logs headers
// or bodies on purpose; redaction is the second line of defence.
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACTED_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'apiKey',
  'anthropicApiKey',
  'sharedSecret',
  'legacyDummyKey',
  'credential',
  'token',
  '*.apiKey',
  '*.anthropicApiKey',
  '*.sharedSecret',
  '*.legacyDummyKey',
  '*.credential',
  '*.token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'api-proxy' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
