// Model allowlist: exact ids, or a prefix written with a trailing `*` (`claude-*`).

const PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@[\]-]*\*?$|^\*$/;

export function isValidModelPattern(pattern: string): boolean {
  return pattern.length <= 200 && PATTERN.test(pattern);
}

export function isModelAllowed(model: string, patterns: readonly string[]): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? model.startsWith(p.slice(0, -1)) : model === p) return true;
  }
  return false;
}
