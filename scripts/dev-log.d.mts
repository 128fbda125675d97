/** One pino JSON line -> "15:04:05 INFO  message key=value ..."; anything else is returned as is. */
export function formatLogLine(line: string): string;
