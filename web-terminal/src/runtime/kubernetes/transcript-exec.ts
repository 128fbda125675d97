// Claude Code's transcript in and out of a session pod, over short non-interactive execs.
// The pod belongs to the learner: whatever an exec prints is untrusted. Content travels base64-encoded
// (binary-safe over a tty too), output is capped, and every exec is bounded in time.
import { Readable, Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import type WebSocket from 'ws';
import { CONVERSATION_ID, RESUME_FILE_NAME, type ConversationTranscript } from '../types.ts';
import { exitCodeFromStatus } from './exec-terminal.ts';

export interface PodTarget {
  kubeConfig: KubeConfig;
  namespace: string;
  podName: string;
  container: string;
}

const EXEC_TIMEOUT_MS = 30_000;
const HEADER = 'CLAUDECODE-TRANSCRIPT';
const FOOTER = 'CLAUDECODE-END';

/** Prints the newest transcript's id, size and base64 tail (at most $1 bytes, from a line start when cut). */
const READ_SCRIPT = [
  'f=$(ls -t "$HOME"/.claude/projects/*/*.jsonl 2>/dev/null | head -n 1)',
  '[ -n "$f" ] && [ -f "$f" ] || exit 3',
  `printf '${HEADER} %s %s\\n' "$(basename "$f" .jsonl)" "$(wc -c < "$f")"`,
  'tail -c "$1" "$f" | base64',
  `printf '${FOOTER}\\n'`,
].join('\n');

/** Decodes base64 from stdin into the resume file, where the entry point picks it up. */
const WRITE_SCRIPT = `stty -echo 2>/dev/null; base64 -d > "\${TMPDIR:-/tmp}/${RESUME_FILE_NAME}"`;

/** Runs one exec; resolves with its exit code and at most `maxOutputBytes` of its output. */
async function runExec(target: PodTarget, argv: string[], opts: { stdin?: Buffer; maxOutputBytes: number }): Promise<{ code: number | null; output: Buffer }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  const sink = new Writable({
    write(chunk: Buffer, _enc, callback) {
      if (size + chunk.length > opts.maxOutputBytes) overflow = true;
      else {
        chunks.push(chunk);
        size += chunk.length;
      }
      callback();
    },
  });
  sink.on('error', () => undefined);
  let status: V1Status | null = null;
  const stdin = opts.stdin ? Readable.from([opts.stdin]) : null;
  const ws = (await new Exec(target.kubeConfig).exec(target.namespace, target.podName, target.container, argv, sink, sink, stdin, false, (s) => {
    status = s;
  })) as unknown as WebSocket;
  await new Promise<void>((resolveDone) => {
    const timer = setTimeout(() => ws.terminate(), EXEC_TIMEOUT_MS);
    timer.unref();
    const check = setInterval(() => {
      if (overflow) ws.terminate();
    }, 50);
    check.unref();
    ws.on('close', () => {
      clearTimeout(timer);
      clearInterval(check);
      resolveDone();
    });
    ws.on('error', () => undefined);
  });
  if (overflow) throw new Error('exec output over its cap');
  return { code: exitCodeFromStatus(status), output: Buffer.concat(chunks) };
}

/** Parses READ_SCRIPT's output; null when it does not have the expected shape. */
export function parseTranscriptOutput(output: string, maxBytes: number): ConversationTranscript | null {
  const lines = output.replace(/\r/g, '').split('\n');
  const headerAt = lines.findIndex((l) => l.startsWith(`${HEADER} `));
  const footerAt = lines.lastIndexOf(FOOTER);
  if (headerAt < 0 || footerAt <= headerAt) return null;
  const [, conversationId = '', sizeText = ''] = (lines[headerAt] as string).split(' ');
  const size = Number(sizeText);
  if (!CONVERSATION_ID.test(conversationId) || !Number.isSafeInteger(size) || size < 0) return null;
  const encoded = lines.slice(headerAt + 1, footerAt).join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return null;
  let content = Buffer.from(encoded, 'base64');
  if (content.length > maxBytes) return null;
  const truncated = size > maxBytes;
  if (truncated) {
    const firstBreak = content.indexOf(0x0a);
    content = firstBreak < 0 ? Buffer.alloc(0) : content.subarray(firstBreak + 1);
  }
  return { conversationId, content, truncated };
}

/** The newest transcript in the pod's home, or null (none, pod gone, unexpected output). Never throws. */
export async function readPodTranscript(target: PodTarget, maxBytes: number): Promise<ConversationTranscript | null> {
  try {
    const maxOutput = Math.ceil(maxBytes / 3) * 4 * 1.05 + 4096; // base64 with line breaks (\r\n over a tty)
    const { code, output } = await runExec(target, ['/bin/sh', '-c', READ_SCRIPT, 'read-transcript', String(maxBytes)], { maxOutputBytes: maxOutput });
    if (code !== 0) return null;
    return parseTranscriptOutput(output.toString('latin1'), maxBytes);
  } catch {
    return null;
  }
}

/** Puts a conversation into the pod's temp folder for the entry point; throws when the pod refused it. */
export async function writePodResumeFile(target: PodTarget, content: Buffer): Promise<void> {
  const encoded = content.toString('base64').replace(/.{1,76}/g, '$&\n');
  const { code } = await runExec(target, ['/bin/sh', '-c', WRITE_SCRIPT], { stdin: Buffer.from(encoded), maxOutputBytes: encoded.length + 65_536 });
  if (code !== 0) throw new Error(`writing the conversation into the pod failed (exit ${String(code)})`);
}
