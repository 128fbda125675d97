// The README's configuration table, generated from the config schema so the two cannot drift.
import { z } from 'zod';
import { configShape } from '../config.ts';

const defaultOf = (schema: z.ZodType): string => {
  const parsed = z.object({ v: schema }).safeParse({});
  const value = parsed.success ? (parsed.data as { v: unknown }).v : undefined;
  if (value === undefined) return '—';
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.length ? value.join(',') : '(empty)';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
};

export function configTable(): string {
  const rows = Object.entries(configShape).map(([name, schema]) => {
    const s = schema as z.ZodType;
    return `| \`${name}\` | \`${defaultOf(s)}\` | ${s.description ?? ''} |`;
  });
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
