// The seam between the session manager and where sandboxes actually run.
// Two implementations: `local` (bubblewrap + node-pty) and `kubernetes` (a Pod + exec).

export type RuntimeKind = 'local' | 'kubernetes';

/** Everything a runtime needs to create one session's sandbox. Built by the session manager. */
export interface SandboxSpec {
  sessionId: string;
  /** Stable hash of the user id: the only form of the user's identity a runtime may see. */
  userHash: string;
  /** Per-session proxy credential (never the real API key). */
  credential: string;
  /** argv of the session program, run inside the sandbox. */
  command: string[];
  /** Extra environment for the session program (non-secret). */
  env: Record<string, string>;
  /** Course content to mount read-only at /workspace, if any. */
  course: { id: string; contentDir: string } | null;
  /** Named resource profile requested for this session (already checked against what the operator allows). */
  profile: string;
  cols: number;
  rows: number;
  createdAt: Date;
  /** Hard end of the session: the runtime should enforce it on its own too (e.g. activeDeadlineSeconds). */
  expiresAt: Date;
  /**
   * An earlier conversation to continue: the runtime puts `transcript` at RESUME_FILE_NAME in the sandbox's
   * temp folder before the program starts (the entry point moves it where Claude Code looks), and `env`
   * carries CLAUDECODE_RESUME_SESSION=conversationId.
   */
  resume?: ConversationTranscript | undefined;
}

/** Claude Code's transcript of one conversation (learner-controlled bytes: size-capped, never trusted). */
export interface ConversationTranscript {
  /** Claude Code's session UUID (the file name, and the `--resume` argument). */
  conversationId: string;
  content: Buffer;
  /** True when the file was larger than the cap and only its newest whole lines were read. */
  truncated: boolean;
}

/** File name, in the sandbox's temp folder, of a conversation handed to a new sandbox to resume. */
export const RESUME_FILE_NAME = 'claudecode-resume.jsonl';
/** Claude Code's session ids as they appear in transcript file names. */
export const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Progress while a sandbox starts, e.g. "scheduled", "pulling image". */
export interface StartProgress {
  phase: string;
  message: string;
}

export interface TerminalExit {
  /** Exit code of the session program, or null when unknown (killed, connection lost). */
  code: number | null;
  /** Short reason when the runtime ended it, e.g. "deadline_exceeded". */
  reason?: string;
}

/**
 * A live terminal of a sandbox: the pty locally, an exec stream in Kubernetes.
 * Output is delivered through `onData`; `pause()`/`resume()` apply backpressure all the way to the
 * program (the runtime stops reading from the pty / exec stream while paused).
 */
export interface Terminal {
  onData(listener: (chunk: Buffer) => void): void;
  onExit(listener: (exit: TerminalExit) => void): void;
  /** Sends input to the program. Returns false when the caller should wait for `onDrain` before writing more. */
  write(data: Buffer): boolean;
  onDrain(listener: () => void): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  /** Detaches from the terminal without ending the program (the sandbox keeps running). */
  detach(): void;
}

/** A sandbox found by `list()`, for reconciliation after a restart. */
export interface SandboxRecord {
  sessionId: string;
  userHash: string;
  createdAt: Date;
  expiresAt: Date | null;
  courseId: string | null;
  /** The resource profile the sandbox was made with (kept across an adoption), when recorded. */
  profile?: string;
  /** Whether the sandbox can still be attached to (false: finished, failed, terminating). */
  alive: boolean;
}

export interface RuntimeHealth {
  ok: boolean;
  message?: string;
}

/**
 * Contract:
 * - `start` resolves with the session program's terminal once it runs; it rejects with a `SandboxError`
 *   whose `reason` names the failure. On rejection nothing is left behind (the runtime cleans up itself).
 *   `signal` aborts a start in progress (the runtime then cleans up and rejects).
 * - `attach` re-opens the terminal of a sandbox that is still running (after the service restarted).
 * - `stop` resolves only when the sandbox is gone; stopping an unknown or already-stopped sandbox succeeds.
 * - `list` returns the sandboxes this runtime created that still exist (alive or not).
 * - `health` says whether new sandboxes can be started right now.
 * - `close` releases the runtime's own resources (watches, sockets); it does not stop sandboxes
 *   unless the runtime's sandboxes cannot outlive the service (local).
 */
export interface SessionRuntime {
  readonly kind: RuntimeKind;
  start(spec: SandboxSpec, opts: { signal: AbortSignal; onProgress: (p: StartProgress) => void }): Promise<Terminal>;
  attach(sessionId: string, size: { cols: number; rows: number }): Promise<Terminal>;
  stop(sessionId: string): Promise<void>;
  list(): Promise<SandboxRecord[]>;
  health(): Promise<RuntimeHealth>;
  /**
   * Runtimes of which several instances may run at once (Kubernetes): starts the election of the one
   * active instance. `onActive` (the manager's adoption) runs each time this instance becomes active;
   * resolves after the first attempt. Without it, the service adopts nothing.
   */
  startController?(handlers: { onActive: () => Promise<void> }): Promise<void>;
  /** Why no session can be started at all (e.g. no sandbox available), or null. Cheap; checked on every create. */
  unavailableReason?(): string | null;
  close(): Promise<void>;
  /**
   * Warm sandboxes (runtimes whose sandboxes outlive the service): records, on a sandbox made ahead of
   * demand with userHash UNCLAIMED_USER_HASH, the session that claimed it, so that `list()` afterwards
   * reports `userHash`, `createdAt` (the claim) and `expiresAt` (the session's hard end) and an
   * adoption after a restart gives it back to its owner. The runtime may also shorten its own hard
   * deadline to `expiresAt`. Rejects when it could not be recorded (the session runs on regardless).
   */
  bindOwner?(sessionId: string, owner: { userHash: string; claimedAt: Date; expiresAt: Date }): Promise<void>;
  /**
   * Removes sandboxes no live session owns, and finished ones (runtimes whose sandboxes outlive us).
   * `ownedSessionIds` is iterated after the runtime has listed its sandboxes, so it can be a live view.
   */
  reconcile?(ownedSessionIds: Iterable<string>): Promise<{ deleted: string[]; failed: string[] }>;
  /**
   * The newest Claude Code transcript in a session's sandbox home (at most `maxBytes` of it), or null when
   * there is none or it cannot be read. May be called while the sandbox runs, after its program exited,
   * and once right after `stop` (a runtime that can still see the stopped sandbox's files answers, e.g.
   * with what the program wrote as it was hung up; others answer null). Never throws.
   */
  readTranscript?(sessionId: string, maxBytes: number): Promise<ConversationTranscript | null>;
}

/** A start failure with a short machine-readable reason (used in metrics, the API and the runbook). */
export class SandboxError extends Error {
  readonly reason: string;
  /** What the learner may read besides the reason's sentence (e.g. the scheduler's message); never secrets. */
  readonly detail: string | undefined;
  constructor(reason: string, message: string, options?: { cause?: unknown; detail?: string }) {
    super(message, options);
    this.name = 'SandboxError';
    this.reason = reason;
    this.detail = options?.detail;
  }
}
