// Stages written inside a course's CLAUDE.md, for paper repositories that keep everything in one file:
//
//   ```json stages
//   [{ "number": 1, "title": "...", "goal": "..." }]
//   ```
//
// CLAUDE.md is mounted into the sandbox, so anything in it is readable by the session: checks are refused here.

export const STAGES_FENCE_INFO = 'json stages';

const fencePattern = /^(`{3,}|~{3,})[ \t]*json[ \t]+stages[ \t]*\r?\n([\s\S]*?)\r?\n\1[ \t]*$/gm;

export type StagesBlock =
  | { found: false }
  | { found: true; ok: true; value: unknown }
  | { found: true; ok: false; message: string };

/** Finds the single ```json stages block of a CLAUDE.md and parses its JSON. Never throws. */
export function extractStagesBlock(markdown: string): StagesBlock {
  const blocks = [...markdown.matchAll(fencePattern)];
  if (blocks.length === 0) return { found: false };
  if (blocks.length > 1) return { found: true, ok: false, message: `found ${blocks.length} \`\`\`${STAGES_FENCE_INFO} blocks, expected one` };
  try {
    return { found: true, ok: true, value: JSON.parse(blocks[0]?.[2] ?? '') };
  } catch (err) {
    return { found: true, ok: false, message: `the \`\`\`${STAGES_FENCE_INFO} block is not valid JSON: ${(err as Error).message}` };
  }
}

/** Paths (for error messages) of every `check` in a parsed block; checks must stay out of the sandbox. */
export function findChecks(value: unknown): string[] {
  const stages = Array.isArray(value) ? value : (value as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return [];
  const prefix = Array.isArray(value) ? '' : 'stages';
  return stages.flatMap((stage, i) =>
    stage !== null && typeof stage === 'object' && 'check' in stage ? [`${prefix}[${i}].check`] : [],
  );
}
