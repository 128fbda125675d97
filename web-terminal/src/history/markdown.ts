// A saved Claude Code transcript (JSONL) as Markdown a learner can keep: user and assistant text turns,
// tool calls summarised in one line, no raw JSON. The transcript is learner-controlled bytes: every line
// is parsed on its own and checked against the few fields used; anything else is skipped.
import { z } from 'zod';

const MAX_LINE_CHARS = 4 * 1024 * 1024;
const TOOL_INPUT_SUMMARY_CHARS = 120;

const block = z.looseObject({ type: z.string() });
const entry = z.looseObject({
  type: z.enum(['user', 'assistant']),
  isMeta: z.boolean().optional(),
  isSidechain: z.boolean().optional(),
  timestamp: z.string().optional(),
  message: z.looseObject({ content: z.union([z.string(), z.array(block)]) }),
});

type Block = z.infer<typeof block>;

export interface MarkdownMeta {
  sessionId: string;
  courseId: string | null;
  savedAt: string;
  truncated: boolean;
}

/** One line describing a tool call: its name and a short, single-line digest of its input. */
function summariseToolUse(b: Block): string {
  const name = typeof b.name === 'string' ? b.name : 'tool';
  const input = b.input && typeof b.input === 'object' ? (b.input as Record<string, unknown>) : {};
  const parts = Object.entries(input)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => `${k}: ${String(v)}`);
  let digest = parts.join(', ').replace(/\s+/g, ' ');
  if (digest.length > TOOL_INPUT_SUMMARY_CHARS) digest = `${digest.slice(0, TOOL_INPUT_SUMMARY_CHARS)}…`;
  return `> Tool call: \`${name.replace(/`/g, "'")}\`${digest ? ` (${digest.replace(/`/g, "'")})` : ''}`;
}

function summariseToolResult(b: Block): string {
  return b.is_error === true ? '> Tool result: error' : '> Tool result received';
}

/** The Markdown parts of one message's content, in order. */
function renderContent(content: string | Block[]): string[] {
  if (typeof content === 'string') return content.trim() ? [content.trim()] : [];
  const out: string[] = [];
  for (const b of content) {
    if (b.type === 'text' && typeof b.text === 'string' && b.text.trim()) out.push(b.text.trim());
    else if (b.type === 'tool_use') out.push(summariseToolUse(b));
    else if (b.type === 'tool_result') out.push(summariseToolResult(b));
  }
  return out;
}

/** Claude Code wraps its own notes to the model in tags; they are not what the learner typed. */
const isSystemNote = (text: string) => /^<(system-reminder|command-name|command-message|command-args|local-command-stdout|local-command-caveat)>/.test(text);

export function transcriptToMarkdown(content: Buffer, meta: MarkdownMeta): string {
  const lines = [
    `# Claude Code conversation`,
    '',
    `- Session: ${meta.sessionId}`,
    ...(meta.courseId ? [`- Course: ${meta.courseId}`] : []),
    `- Saved: ${meta.savedAt}`,
    ...(meta.truncated ? ['- Note: this conversation was longer than the size limit; only its newest part was kept.'] : []),
    '',
  ];
  for (const raw of content.toString('utf8').split('\n')) {
    if (!raw.trim() || raw.length > MAX_LINE_CHARS) continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      continue;
    }
    const parsed = entry.safeParse(value);
    if (!parsed.success || parsed.data.isMeta || parsed.data.isSidechain) continue;
    const parts = renderContent(parsed.data.message.content).filter((p) => !isSystemNote(p));
    if (parts.length === 0) continue;
    const { type, message } = parsed.data;
    const onlyToolResults = Array.isArray(message.content) && message.content.every((b) => b.type === 'tool_result');
    const who = type === 'assistant' ? 'Claude' : onlyToolResults ? 'Tool' : 'You';
    lines.push(`## ${who}${parsed.data.timestamp ? ` · ${parsed.data.timestamp}` : ''}`, '', parts.join('\n\n'), '');
  }
  return lines.join('\n');
}
