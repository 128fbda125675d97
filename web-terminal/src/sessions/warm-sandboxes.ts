// Wires the warm pool to the service: its settings, how a warm sandbox is made (a sandbox spec with no
// owner yet), which pools exist, and its metrics. The pool itself is in warm-pool.ts.
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { intVar, listVar } from '../config/env.ts';
import type { SandboxSpec, SessionRuntime } from '../runtime/types.ts';
import { newSessionId } from './ids.ts';
import { WarmPool } from './warm-pool.ts';
import type { PoolKey } from './warm-pool.ts';

export const warmConfigShape = {
  WARM_SANDBOXES: intVar(0, 0, 1000).describe('Sandboxes kept started ahead of demand per warm pool (0: none). Each costs what a running session costs (Claude Code at its prompt: about 200 MB RSS; on Kubernetes a session pod\'s requests, so the sandbox ResourceQuota too) and counts against MAX_SESSIONS.'),
  WARM_POOLS: listVar().describe('Warm pools, comma-separated: a course id, `course:profile`, or `-` for sessions without a course. Empty: every course in the catalog plus `-`, with the `default` profile. A profile must be one sessions may use (SANDBOX_PROFILES_ALLOWED on Kubernetes, only `default` locally).'),
};

/** The glyph of Claude Code's input line (2.1.332): drawn once the CLI waits for the learner. */
export const CLAUDE_CODE_INPUT_PROMPT = '\u276f';

/** The user hash a warm sandbox's credential carries; its owner is known from the live-session set once claimed. */
export const UNCLAIMED_USER_HASH = 'unclaimed';

/** `profiles`: those sessions may use (a pool of another profile could never start a sandbox). */
export function parsePoolKeys(entries: readonly string[], courseIds: readonly string[], profiles: readonly string[] = ['default']): PoolKey[] {
  const list = entries.length > 0 ? entries : ['-', ...courseIds];
  const keys = list.map((entry) => {
    const [course = '-', profile = 'default'] = entry.split(':');
    return { courseId: course === '-' ? null : course, profile };
  });
  const unknown = keys.filter((k) => k.courseId !== null && !courseIds.includes(k.courseId));
  if (unknown.length > 0) throw new Error(`WARM_POOLS names unknown courses: ${unknown.map((k) => k.courseId).join(', ')}`);
  const refused = keys.filter((k) => !profiles.includes(k.profile));
  if (refused.length > 0) throw new Error(`WARM_POOLS names profiles that are not allowed: ${[...new Set(refused.map((k) => k.profile))].join(', ')}`);
  return keys;
}

export interface WarmSandboxesOptions {
  perPool: number;
  pools: readonly PoolKey[];
  maxSandboxes: number;
  sessionSeconds: number;
  keptOutputBytes: number;
  runtime: SessionRuntime;
  command: string[];
  /** The session program is Claude Code: a warm sandbox is ready once its input prompt is drawn. */
  programIsClaudeCode: boolean;
  issueCredential: (claims: { sessionId: string; userHash: string; expiresAt: Date }) => string;
  /** Environment every sandbox gets (the manager's `sandboxEnv`), e.g. the output-token ceiling. */
  sandboxEnv?: Readonly<Record<string, string>>;
  contentDirOf: (courseId: string) => string | undefined;
  /** The course's tutor brief (Claude Code's system prompt addition): course-wide, so known before a claim. */
  tutorBriefOf: (courseId: string) => string | undefined;
  activeSessions: () => number;
  logger: Logger;
  registry: Registry;
  now?: () => number;
}

export function createWarmPool(opts: WarmSandboxesOptions): WarmPool {
  const now = opts.now ?? Date.now;
  // Retired after one session lifetime: a warm sandbox's credential then still covers a whole session
  // started at the last moment.
  const maxAgeMs = opts.sessionSeconds * 1000;
  const gauge = new Gauge({ name: 'webterminal_warm_sandboxes', help: 'Warm sandboxes held by the pool, by state (ready or starting).', labelNames: ['state'], registers: [opts.registry] });
  const claims = new Counter({ name: 'webterminal_warm_claims_total', help: 'Sessions given a warm sandbox: `warm` (its program was running) or `refill` (still starting).', labelNames: ['how'], registers: [opts.registry] });
  const pool = new WarmPool({
    perPool: opts.perPool,
    pools: opts.pools,
    maxSandboxes: opts.maxSandboxes,
    activeSessions: opts.activeSessions,
    keptOutputBytes: opts.keptOutputBytes,
    maxAgeMs,
    readyMarker: opts.programIsClaudeCode ? CLAUDE_CODE_INPUT_PROMPT : null,
    logger: opts.logger,
    now,
    discard: (sessionId) => opts.runtime.stop(sessionId),
    canStart: () => (opts.runtime.unavailableReason?.() ?? null) === null,
    onChange: ({ ready, starting }) => {
      gauge.set({ state: 'ready' }, ready);
      gauge.set({ state: 'starting' }, starting);
    },
    onClaim: (how) => claims.inc({ how }),
    make: (key, signal) => {
      const sessionId = newSessionId();
      const createdAt = new Date(now());
      const expiresAt = new Date(createdAt.getTime() + maxAgeMs + opts.sessionSeconds * 1000);
      const contentDir = key.courseId === null ? undefined : opts.contentDirOf(key.courseId);
      const spec: SandboxSpec = {
        sessionId,
        userHash: UNCLAIMED_USER_HASH,
        credential: opts.issueCredential({ sessionId, userHash: UNCLAIMED_USER_HASH, expiresAt }),
        command: opts.command,
        // The first message depends on the learner's progress: it is typed in at claim.
        env: { ...opts.sandboxEnv, ...tutorBriefEnv(key.courseId === null ? undefined : opts.tutorBriefOf(key.courseId)) },
        course: key.courseId !== null && contentDir ? { id: key.courseId, contentDir } : null,
        profile: key.profile,
        cols: 80,
        rows: 24,
        createdAt,
        expiresAt,
      };
      return { sessionId, terminal: opts.runtime.start(spec, { signal, onProgress: () => {} }) };
    },
  });
  return pool;
}

function tutorBriefEnv(brief: string | undefined): Record<string, string> {
  return brief ? { CLAUDECODE_TUTOR_BRIEF: brief } : {};
}
