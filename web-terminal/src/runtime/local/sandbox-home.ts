// Reading Claude Code's transcript out of a local sandbox's in-memory home, and handing one back in.
// The home is reached through the sandbox init's /proc/<pid>/root. Everything below the home belongs
// to the learner, who may plant symlinks, FIFOs or huge trees: each step opens one name relative to
// the directory already open (via /proc/self/fd/N/name) with O_NOFOLLOW, so no link is ever followed
// out of the sandbox, files must be regular, directory listings are capped, and reads are size-capped.
// The open home directory keeps the tmpfs readable after the sandbox's program exited, until closed.
import { chownSync, closeSync, constants, fstatSync, mkdtempSync, opendirSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import type { Dir } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONVERSATION_ID, type ConversationTranscript } from '../types.ts';
import { SANDBOX_HOME } from './bwrap-args.ts';

const MAX_PROJECT_DIRS = 64;
const MAX_FILES_PER_DIR = 256;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opens the sandbox's home directory through its init process; null when it is not there (yet). */
export function openSandboxHome(initPid: number): number | null {
  try {
    return openSync(`/proc/${initPid}/root${SANDBOX_HOME}`, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return null;
  }
}

const openAt = (dirFd: number, name: string, flags: number): number | null => {
  try {
    return openSync(`/proc/self/fd/${dirFd}/${name}`, flags);
  } catch {
    return null;
  }
};

/** At most `limit` names of a directory (read incrementally: a learner's huge folder costs nothing). */
const listAt = (dirFd: number, limit: number): string[] => {
  const names: string[] = [];
  let dir: Dir | null = null;
  try {
    dir = opendirSync(`/proc/self/fd/${dirFd}`);
    for (let entry = dir.readSync(); entry && names.length < limit; entry = dir.readSync()) names.push(entry.name);
  } catch {
    // unreadable: treat as empty
  } finally {
    dir?.closeSync();
  }
  return names;
};

/** The newest `<uuid>.jsonl` under `home/.claude/projects/*`, tail-read to at most `maxBytes`. */
export function readNewestTranscript(homeFd: number, maxBytes: number): ConversationTranscript | null {
  const open: number[] = [];
  const track = (fd: number | null) => {
    if (fd !== null) open.push(fd);
    return fd;
  };
  try {
    const claude = track(openAt(homeFd, '.claude', DIR_FLAGS));
    const projects = claude === null ? null : track(openAt(claude, 'projects', DIR_FLAGS));
    if (projects === null) return null;
    let newest: { fd: number; id: string; mtimeMs: number; size: number } | null = null;
    for (const dirName of listAt(projects, MAX_PROJECT_DIRS)) {
      const dir = track(openAt(projects, dirName, DIR_FLAGS));
      if (dir === null) continue;
      for (const fileName of listAt(dir, MAX_FILES_PER_DIR)) {
        const id = fileName.endsWith('.jsonl') ? fileName.slice(0, -'.jsonl'.length) : '';
        if (!CONVERSATION_ID.test(id)) continue;
        const fd = track(openAt(dir, fileName, FILE_FLAGS));
        if (fd === null) continue;
        const stat = fstatSync(fd);
        if (!stat.isFile()) continue;
        if (!newest || stat.mtimeMs > newest.mtimeMs) newest = { fd, id, mtimeMs: stat.mtimeMs, size: stat.size };
      }
    }
    if (!newest) return null;
    return { conversationId: newest.id, ...readTail(newest.fd, newest.size, maxBytes) };
  } catch {
    return null;
  } finally {
    for (const fd of open) closeSync(fd);
  }
}

/** The last `maxBytes` of a file, starting at a line boundary when cut. */
function readTail(fd: number, size: number, maxBytes: number): { content: Buffer; truncated: boolean } {
  const truncated = size > maxBytes;
  const length = Math.min(size, maxBytes);
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const n = readSync(fd, buffer, read, length - read, size - length + read);
    if (n === 0) break;
    read += n;
  }
  const content = buffer.subarray(0, read);
  if (!truncated) return { content, truncated };
  const firstBreak = content.indexOf(0x0a);
  return { content: firstBreak < 0 ? Buffer.alloc(0) : content.subarray(firstBreak + 1), truncated };
}

/**
 * Writes a conversation to a private host file for bubblewrap to bind read-only into the new sandbox.
 * The folder is owned by the sandbox's host uid when it has one of its own. Returns the file and its cleanup.
 */
export function writeResumeFile(content: Buffer, owner: number | null): { path: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'claudecode-resume-'));
  const path = join(dir, 'conversation.jsonl');
  writeFileSync(path, content, { mode: 0o600 });
  if (owner !== null) {
    chownSync(path, owner, owner);
    chownSync(dir, owner, owner);
  }
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
