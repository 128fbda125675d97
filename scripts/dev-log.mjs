// Turns the service's JSON log lines (pino) into one readable line each, for `npm run dev`.
// Lines that are not pino JSON pass through unchanged.

const LEVELS = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const QUIET_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);
const MAX_LINE = 4000; // a runaway object is cut, not printed in full

function formatValue(value) {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value && typeof value === 'object' && typeof value.message === 'string' && typeof value.stack === 'string') {
    return `\n  ${value.stack.split('\n').join('\n  ')}`;
  }
  return JSON.stringify(value);
}

/** One pino JSON line -> "15:04:05 INFO  message key=value ..."; anything else is returned as is. */
export function formatLogLine(line) {
  if (!line.startsWith('{')) return line;
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  if (!entry || typeof entry !== 'object' || typeof entry.level !== 'number') return line;
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 19) : '--:--:--';
  const level = LEVELS[entry.level] ?? String(entry.level).padEnd(5);
  const fields = Object.entries(entry).filter(([k]) => !QUIET_KEYS.has(k)).map(([k, v]) => `${k}=${formatValue(v)}`);
  const text = [time, level, entry.msg ?? '', ...fields].filter((p) => p !== '').join(' ');
  return text.length > MAX_LINE ? `${text.slice(0, MAX_LINE)} …(cut)` : text;
}
