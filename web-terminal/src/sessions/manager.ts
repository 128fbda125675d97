// The session manager: admission, lifecycle, reaping. Every way a session ends goes through `end`,
// which releases the sandbox, so nothing is left running behind a finished session.
import type { Logger } from 'pino';
import type { Identity } from '../types.ts';
import { ApiError } from '../http/errors.ts';
import { SandboxError } from '../runtime/types.ts';
import type { ConversationTranscript, SandboxSpec, SessionRuntime, Terminal } from '../runtime/types.ts';
import type { ServiceMetrics } from '../metrics.ts';
import { Admission } from './admission.ts';
import type { Slot } from './admission.ts';
import { newSessionId } from './ids.ts';
import { Session } from './session.ts';
import type { ScreenSettings } from './screen-record.ts';
import { canWatchSessions } from '../auth/roles.ts';
import { CloseCode } from '../ws/protocol.ts';
import { describeReason } from '../../public/reasons.js';
import type { ClaimedSandbox, WarmPool } from './warm-pool.ts';
import { typeKickOffPrompt } from './kick-off.ts';
import { UNCLAIMED_USER_HASH } from './warm-sandboxes.ts';

/** Tries to record a claimed warm sandbox's owner with the runtime, the n-th after n x BIND_OWNER_RETRY_MS. */
const BIND_OWNER_ATTEMPTS = 3;
const BIND_OWNER_RETRY_MS = 1000;

export interface CourseRef {
  id: string;
  contentDir: string;
  stageNumbers: readonly number[];
  /** The stage a new session starts on: the requested one, else the caller's first unfinished one. */
  startingStage(requested: number | undefined): number;
  /** The learner's first message: which stage they start at. */
  initialPrompt(stage: number): string;
  /** The tutor's instructions for the course, added to Claude Code's system prompt (never on screen). */
  tutorBrief: string;
}

export interface SessionManagerOptions {
  runtime: SessionRuntime;
  logger: Logger;
  metrics: ServiceMetrics;
  limits: { maxSessions: number; maxSessionsPerUser: number; createsPerMinute: number };
  timeouts: { sessionSeconds: number; idleSeconds: number; graceSeconds: number };
  scrollbackBytes: number;
  /** How each session keeps its screen for (re)attaching viewers (default: raw replay of scrollbackBytes). */
  screen?: ScreenSettings;
  /** argv of the session program. */
  command: string[];
  hashUser: (userId: string) => string;
  issueCredential: (claims: { sessionId: string; userHash: string; expiresAt: Date }) => string;
  findCourse: (courseId: string, userId: string) => CourseRef | undefined;
  allowedProfiles: readonly string[];
  /** Output after which the session program takes input (see Session); null or absent: at once. */
  inputReadyMarker?: string | null;
  /** Environment every sandbox gets (non-secret), e.g. the output-token ceiling the API proxy enforces. */
  sandboxEnv?: Readonly<Record<string, string>>;
  /** The caller's saved conversation of an earlier session, for `resume` (undefined: none, or not theirs). */
  findConversation?: (userId: string, sessionId: string) => { courseId: string | null; transcript: ConversationTranscript } | undefined;
  now?: () => number;
  reapIntervalMs?: number;
  /** How often the runtime reconciles (default 60 s). */
  reconcileIntervalMs?: number;
  /** Warm sandboxes to claim instead of starting one (WARM_SANDBOXES). */
  warmPool?: WarmPool;
  /** Whether a claimed warm sandbox gets the course's first prompt typed in (the program is Claude Code). */
  typeKickOff?: boolean;
}

export interface CreateSessionRequest {
  courseId?: string | undefined;
  stage?: number | undefined;
  profile?: string | undefined;
  /** Id of an earlier session of the caller whose saved conversation the new one continues. */
  resume?: string | undefined;
}

/** How long the end of a session waits for its ending listeners (e.g. a last transcript save). */
const ENDING_LISTENERS_TIMEOUT_MS = 15_000;

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private readonly slots = new Map<string, Slot>();
  private readonly startAborts = new Map<string, AbortController>();
  private readonly ending = new Map<string, Promise<void>>();
  private readonly createdListeners: Array<(session: Session) => void> = [];
  private readonly endingListeners: Array<(session: Session) => Promise<void> | void> = [];
  private readonly endedListeners: Array<(session: Session) => Promise<void> | void> = [];
  private readonly admission: Admission;
  private readonly now: () => number;
  private reaper: NodeJS.Timeout | null = null;
  private accepting = true;

  constructor(private readonly opts: SessionManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.admission = new Admission(opts.limits, this.now);
  }

  get activeCount(): number {
    return this.admission.active;
  }

  /** Called for every new (or adopted) session, before its program produces output. */
  onSessionCreated(listener: (session: Session) => void): void {
    this.createdListeners.push(listener);
  }

  /**
   * Called once for every session that ends, after it reached its final state and before its sandbox is
   * stopped (so the sandbox can still be read). Awaited, for at most ENDING_LISTENERS_TIMEOUT_MS.
   */
  onSessionEnding(listener: (session: Session) => Promise<void> | void): void {
    this.endingListeners.push(listener);
  }

  /** Like onSessionEnding, but after the sandbox was stopped (e.g. what the program wrote as it exited). */
  onSessionEnded(listener: (session: Session) => Promise<void> | void): void {
    this.endedListeners.push(listener);
  }

  /** Admits and starts a session. Returns at once in state `starting`; progress reaches the viewer. */
  create(identity: Identity, request: CreateSessionRequest): Session {
    if (!this.accepting) throw new ApiError('shutting_down', describeReason('shutting_down'));
    const unavailable = this.opts.runtime.unavailableReason?.() ?? null;
    if (unavailable) {
      this.opts.metrics.rejections.inc({ reason: 'runtime_unavailable' });
      // The catalog sentence for the learner, the runtime's own detail for whoever runs the server.
      throw new ApiError('runtime_unavailable', `${describeReason('runtime_unavailable')} (${unavailable})`);
    }
    const resume = request.resume === undefined ? undefined : this.opts.findConversation?.(identity.userId, request.resume);
    if (request.resume !== undefined && !resume) throw new ApiError('not_found', 'no saved conversation for that session');
    if (resume && request.courseId !== undefined && request.courseId !== resume.courseId) {
      throw new ApiError('bad_request', 'courseId: a resumed session keeps the course of the session it continues');
    }
    const courseId = request.courseId ?? resume?.courseId ?? undefined;
    const course = courseId === undefined ? undefined : this.opts.findCourse(courseId, identity.userId);
    if (courseId !== undefined && !course) throw new ApiError('not_found', `no course "${courseId}"`);
    if (request.stage !== undefined && (!course || !course.stageNumbers.includes(request.stage))) {
      throw new ApiError('bad_request', course ? `stage must be one of ${course.stageNumbers.join(', ')}` : 'stage needs a courseId');
    }
    const profile = request.profile ?? 'default';
    if (!this.opts.allowedProfiles.includes(profile)) throw new ApiError('bad_request', `profile "${profile}" is not allowed`);

    const userHash = this.opts.hashUser(identity.userId);
    const decision = this.admission.tryAdmit(userHash);
    if (!decision.ok) {
      this.opts.metrics.rejections.inc({ reason: decision.reason });
      throw new ApiError(decision.reason, describeReason(decision.reason), { retryAfterSeconds: decision.retryAfterSeconds });
    }

    // Everything personal (timers, the first prompt, the owner binding) starts here, warm sandbox or not.
    // A resumed conversation must be in the sandbox before its program starts: never a warm one.
    const claimed = resume ? null : this.opts.warmPool?.claim({ courseId: course?.id ?? null, profile }) ?? null;
    const createdAt = new Date(this.now());
    const session = new Session({
      id: claimed?.sessionId ?? newSessionId(),
      userHash,
      displayName: identity.displayName,
      courseId: course?.id ?? null,
      ownerId: identity.userId,
      stage: course ? course.startingStage(request.stage) : null,
      profile,
      createdAt,
      expiresAt: new Date(createdAt.getTime() + this.opts.timeouts.sessionSeconds * 1000),
      scrollbackBytes: this.opts.scrollbackBytes,
      inputReadyMarker: this.opts.inputReadyMarker ?? null,
      screen: this.opts.screen,
      now: this.now,
    });
    this.sessions.set(session.id, session);
    this.slots.set(session.id, decision);
    this.opts.metrics.activeSessions.set(this.admission.active);
    for (const listener of this.createdListeners) listener(session);
    void (claimed ? this.runClaimed(session, claimed, course) : this.startSandbox(session, course, resume?.transcript));
    return session;
  }

  /** The caller's own session, or undefined (also for someone else's: ids cannot be probed). */
  get(identity: Identity, id: string): Session | undefined {
    const session = this.sessions.get(id);
    if (!session || session.userHash !== this.opts.hashUser(identity.userId)) return undefined;
    session.ownerId ??= identity.userId; // adopted sessions learn their owner's id on first contact
    return session;
  }

  /** A session the caller may end: their own, or any for an administrator (who may not attach to it). */
  getForEnding(identity: Identity, id: string): Session | undefined {
    return this.get(identity, id) ?? (identity.isAdmin ? this.sessions.get(id) : undefined);
  }

  /** Any session, for an instructor or administrator watching it read-only; undefined for anyone else. */
  getForWatching(identity: Identity, id: string): Session | undefined {
    return canWatchSessions(identity) ? this.sessions.get(id) : undefined;
  }

  list(identity: Identity): Session[] {
    const userHash = this.opts.hashUser(identity.userId);
    return [...this.sessions.values()].filter((s) => s.userHash === userHash);
  }

  listAll(): Session[] {
    return [...this.sessions.values()];
  }

  /** The owner of a live (starting or running) session, or undefined: the API proxy serves only these. */
  liveSession(id: string): { userHash: string } | undefined {
    const session = this.sessions.get(id);
    return session?.isActive ? { userHash: session.userHash } : undefined;
  }

  /**
   * What the API proxy saw from the model's API for a session's requests: a reason code from the
   * reason catalog (e.g. `upstream_unauthorized`), or null once requests succeed again.
   */
  reportUpstream(sessionId: string, reason: string | null): void {
    this.sessions.get(sessionId)?.reportUpstream(reason);
  }

  /** Ends a session and resolves once its sandbox is gone. Safe to call any number of times. */
  end(id: string, reason: string, state: 'ended' | 'failed' = 'ended', exitCode: number | null = null, detail?: string): Promise<void> {
    const inProgress = this.ending.get(id);
    if (inProgress) return inProgress;
    const session = this.sessions.get(id);
    if (!session) return Promise.resolve();
    const ending = this.endSession(session, reason, state, exitCode, detail).finally(() => this.ending.delete(id));
    this.ending.set(id, ending);
    return ending;
  }

  private async endSession(session: Session, reason: string, state: 'ended' | 'failed', exitCode: number | null, detail?: string): Promise<void> {
    const finished = session.finish(state, reason, exitCode, detail);
    // The user has no live session here any more (the API lists it as ended): they may start another at
    // once. The global slot bounds sandboxes, so it is kept until this one is gone.
    this.slots.get(session.id)?.releaseUser();
    this.startAborts.get(session.id)?.abort();
    if (finished) await this.notify(this.endingListeners, session);
    try {
      await this.opts.runtime.stop(session.id);
    } catch (err) {
      this.opts.logger.warn({ err, sessionId: session.id }, 'sandbox stop failed; reconciliation will retry');
    }
    if (finished) await this.notify(this.endedListeners, session);
    this.slots.get(session.id)?.release();
    this.slots.delete(session.id);
    this.opts.metrics.activeSessions.set(this.admission.active);
    this.opts.warmPool?.fill();
    if (finished) this.opts.logger.info({ sessionId: session.id, reason, state, exitCode }, 'session ended');
    // Keep finished sessions visible for a while so the UI can show why they ended.
    setTimeout(() => {
      if (this.sessions.get(session.id) === session && !session.isActive) this.sessions.delete(session.id);
    }, 10 * 60_000).unref();
  }

  private async notify(listenerList: Array<(session: Session) => Promise<void> | void>, session: Session): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolveTimeout) => {
      timer = setTimeout(resolveTimeout, ENDING_LISTENERS_TIMEOUT_MS);
    });
    const listeners = Promise.all(listenerList.map(async (listener) => {
      try {
        await listener(session);
      } catch (err) {
        this.opts.logger.warn({ err, sessionId: session.id }, 'a session-ending listener failed');
      }
    }));
    await Promise.race([listeners, timeout]);
    clearTimeout(timer);
  }

  /** The session runs on `terminal` until the program exits (a runtime-given reason means it failed). */
  private runOn(session: Session, terminal: Terminal): void {
    terminal.onExit((exit) => {
      const failed = exit.reason !== undefined && exit.reason !== 'exited';
      void this.end(session.id, exit.reason ?? 'exited', failed ? 'failed' : 'ended', exit.code);
    });
    session.run(terminal);
  }

  private sandboxSpec(session: Session, course: CourseRef | undefined, resume: ConversationTranscript | undefined): SandboxSpec {
    // A resumed conversation already knows its course: no first prompt then.
    const env: Record<string, string> = resume
      ? { CLAUDECODE_RESUME_SESSION: resume.conversationId }
      : course && session.stage ? { CLAUDECODE_INITIAL_PROMPT: course.initialPrompt(session.stage) } : {};
    if (course) env.CLAUDECODE_TUTOR_BRIEF = course.tutorBrief;
    return {
      sessionId: session.id,
      userHash: session.userHash,
      credential: this.opts.issueCredential({ sessionId: session.id, userHash: session.userHash, expiresAt: session.expiresAt }),
      command: this.opts.command,
      env: { ...this.opts.sandboxEnv, ...env },
      resume,
      course: course ? { id: course.id, contentDir: course.contentDir } : null,
      profile: session.profile,
      cols: 80,
      rows: 24,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
    };
  }

  /**
   * Runs a session on a warm sandbox it claimed (waiting for it if it was still starting). If that
   * sandbox failed to start or its program died before the session got it, the session starts cold.
   */
  private async runClaimed(session: Session, claimed: ClaimedSandbox, course: CourseRef | undefined): Promise<void> {
    const startedAt = performance.now();
    let held;
    try {
      held = await claimed.terminal;
      if (held.exited) throw new SandboxError('exited', 'the warm sandbox\'s program had exited');
    } catch (err) {
      if (!session.isActive) return;
      this.opts.logger.warn({ err, sessionId: session.id }, 'the claimed warm sandbox did not start; starting one for the session');
      await this.opts.runtime.stop(session.id).catch(() => undefined);
      return this.startSandbox(session, course);
    }
    try {
      if (!session.isActive) return; // ended while waiting: end() stopped the sandbox
      this.bindOwner(session);
      this.runOn(session, held.terminal);
      this.opts.metrics.startSeconds.observe({ runtime: this.opts.runtime.kind }, (performance.now() - startedAt) / 1000);
      this.opts.logger.info({ sessionId: session.id, userHash: session.userHash, courseId: session.courseId, warm: claimed.how }, 'session running');
      const prompt = this.opts.typeKickOff && course && session.stage ? course.initialPrompt(session.stage) : null;
      if (prompt && !(await typeKickOffPrompt(held, prompt, { quietMs: 300, timeoutMs: 30_000 }, this.now))) {
        this.opts.logger.warn({ sessionId: session.id }, 'the first prompt was not typed: the program never waited for input');
      }
    } catch (err) {
      const reason = err instanceof SandboxError ? err.reason : 'start_failed';
      if (session.isActive) this.opts.metrics.startFailures.inc({ reason });
      await this.end(session.id, reason, 'failed');
    }
  }

  /** Records a claimed warm sandbox's owner in the runtime (so a restart adopts it as theirs), not awaited. */
  private bindOwner(session: Session): void {
    const bind = this.opts.runtime.bindOwner?.bind(this.opts.runtime);
    if (!bind) return;
    const owner = { userHash: session.userHash, claimedAt: session.createdAt, expiresAt: session.expiresAt };
    // A few tries (an API server can blip); the session never waits for them.
    void (async () => {
      for (let attempt = 1; session.isActive; attempt += 1) {
        try {
          return await bind(session.id, owner);
        } catch (err) {
          if (attempt >= BIND_OWNER_ATTEMPTS) {
            if (session.isActive) this.opts.logger.warn({ err, sessionId: session.id }, 'could not record the owner of a claimed warm sandbox; a restart would not adopt it');
            return;
          }
          await new Promise((r) => setTimeout(r, BIND_OWNER_RETRY_MS * attempt).unref());
        }
      }
    })();
  }

  /** Starts the sandbox; any failure (including building its spec) ends the session as failed. */
  private async startSandbox(session: Session, course: CourseRef | undefined, resume?: ConversationTranscript): Promise<void> {
    const abort = new AbortController();
    this.startAborts.set(session.id, abort);
    const startedAt = performance.now();
    try {
      // Warm sandboxes yield their capacity to a learner who needs a cold start.
      if (this.opts.warmPool) await this.opts.warmPool.makeRoom({ courseId: course?.id ?? null, profile: session.profile });
      const spec = this.sandboxSpec(session, course, resume);
      const terminal = await this.opts.runtime.start(spec, {
        signal: abort.signal,
        onProgress: (p) => session.progress(p.phase, p.message),
      });
      if (!session.isActive) {
        terminal.detach();
        // Ended while its sandbox was being made: a stop that ran before the sandbox existed found nothing.
        await this.opts.runtime.stop(session.id).catch((err: unknown) => this.opts.logger.warn({ err, sessionId: session.id }, 'sandbox stop failed; reconciliation will retry'));
        return;
      }
      this.runOn(session, terminal);
      this.opts.metrics.startSeconds.observe({ runtime: this.opts.runtime.kind }, (performance.now() - startedAt) / 1000);
      this.opts.logger.info({ sessionId: session.id, userHash: session.userHash, courseId: session.courseId }, 'session running');
    } catch (err) {
      const reason = err instanceof SandboxError ? err.reason : 'start_failed';
      if (session.isActive) {
        this.opts.logger.warn({ err, sessionId: session.id, reason }, 'session failed to start');
        this.opts.metrics.startFailures.inc({ reason });
      }
      await this.end(session.id, reason, 'failed', null, err instanceof SandboxError ? err.detail : undefined);
    } finally {
      this.startAborts.delete(session.id);
    }
  }

  /**
   * After a restart: takes over the sandboxes that are still running (their users reattach through the
   * API as before), then lets the runtime delete everything no session owns. Returns the adopted ids.
   */
  async adoptRunningSandboxes(): Promise<string[]> {
    const records = await this.opts.runtime.list();
    const now = this.now();
    const adopted: string[] = [];
    for (const record of records) {
      // A warm sandbox nobody claimed is no one's session: reconciliation removes it, the pool makes new ones.
      if (!record.alive || this.sessions.has(record.sessionId) || !record.userHash || record.userHash === UNCLAIMED_USER_HASH) continue;
      const expiresAt = record.expiresAt ?? new Date(record.createdAt.getTime() + this.opts.timeouts.sessionSeconds * 1000);
      if (expiresAt.getTime() <= now) continue;
      const session = new Session({
        id: record.sessionId,
        userHash: record.userHash,
        ownerId: null,
        displayName: '',
        courseId: record.courseId,
        stage: null,
        profile: record.profile ?? 'default',
        createdAt: record.createdAt,
        expiresAt,
        scrollbackBytes: this.opts.scrollbackBytes,
        screen: this.opts.screen,
        now: this.now,
      });
      try {
        const terminal = await this.opts.runtime.attach(session.id, { cols: 80, rows: 24 });
        this.sessions.set(session.id, session);
        this.slots.set(session.id, this.admission.reserve(session.userHash));
        for (const listener of this.createdListeners) listener(session);
        this.runOn(session, terminal);
        adopted.push(session.id);
      } catch (err) {
        this.opts.logger.warn({ err, sessionId: record.sessionId }, 'could not adopt a running sandbox; it will be removed');
      }
    }
    this.opts.metrics.activeSessions.set(this.admission.active);
    await this.reconcile();
    if (adopted.length) this.opts.logger.info({ adopted }, 'adopted running sandboxes');
    return adopted;
  }

  /** Lets the runtime delete sandboxes no live session owns. */
  async reconcile(): Promise<void> {
    if (!this.opts.runtime.reconcile) return;
    const sessions = this.sessions;
    const warmPool = this.opts.warmPool;
    const live: Iterable<string> = {
      *[Symbol.iterator]() {
        for (const s of sessions.values()) if (s.isActive) yield s.id;
        yield* warmPool?.sessionIds() ?? [];
      },
    };
    try {
      const result = await this.opts.runtime.reconcile(live);
      if (result.deleted.length) this.opts.logger.info({ deleted: result.deleted }, 'removed sandboxes no session owns');
    } catch (err) {
      this.opts.logger.warn({ err }, 'reconciliation failed; will retry');
    }
  }

  /** Ends sessions past their lifetime, and idle ones nobody watches. */
  reap(): void {
    const now = this.now();
    for (const session of this.sessions.values()) {
      if (!session.isActive) continue;
      if (now >= session.expiresAt.getTime()) {
        void this.end(session.id, 'expired');
        continue;
      }
      if (session.hasViewer) continue;
      const idleDeadline = session.lastInputAt + this.opts.timeouts.idleSeconds * 1000;
      const graceDeadline = (session.detachedAt ?? session.createdAt.getTime()) + this.opts.timeouts.graceSeconds * 1000;
      if (now >= Math.max(idleDeadline, graceDeadline)) void this.end(session.id, 'idle');
    }
  }

  startReaper(): void {
    let ticks = 0;
    const reconcileEvery = Math.max(1, Math.round((this.opts.reconcileIntervalMs ?? 60_000) / (this.opts.reapIntervalMs ?? 1000)));
    this.reaper ??= setInterval(() => {
      this.reap();
      ticks += 1;
      if (ticks % reconcileEvery === 0) void this.reconcile();
    }, this.opts.reapIntervalMs ?? 1000);
    this.reaper.unref();
  }

  /** Stops intake, tells viewers, and (when sandboxes cannot outlive us) ends every session. */
  async shutdown({ stopSandboxes }: { stopSandboxes: boolean }): Promise<void> {
    this.accepting = false;
    if (this.reaper) clearInterval(this.reaper);
    this.reaper = null;
    await this.opts.warmPool?.drain();
    const active = [...this.sessions.values()].filter((s) => s.isActive);
    if (stopSandboxes) {
      await Promise.all(active.map((s) => this.end(s.id, 'shutdown')));
    } else {
      for (const s of active) s.disconnectViewer(CloseCode.GOING_AWAY, 'server restarting');
    }
  }
}
