// One session: its state, its terminal, its viewer (the owner's socket, which may type and whose backlog
// pauses the program), its watchers (read-only sockets that never slow it down), and its screen record.
import type { Terminal } from '../runtime/types.ts';
import type { SessionEvent, SessionState, SessionView } from '../types.ts';
import { CloseCode } from '../ws/protocol.ts';
import type { ServerMessageBody } from '../ws/protocol.ts';
import { InputHold } from './input-hold.ts';
import { createScreenRecord } from './screen-record.ts';
import type { ScreenRecord, ScreenSettings } from './screen-record.ts';
import { describeReason } from '../../public/reasons.js';
import type { Viewer } from './viewer.ts';

const MAX_PENDING_EVENTS = 32;
/** Keystrokes kept while the session starts (delivered once it runs); past this they are refused visibly. */
export const MAX_PENDING_INPUT_BYTES = 16 * 1024;
/** The size every sandbox starts with (SessionManager.sandboxSpec), until a viewer says otherwise. */
const INITIAL_SIZE = Object.freeze({ cols: 80, rows: 24 });
/** A lagging watcher gets a fresh screen at most this often (a snapshot costs the server CPU). */
export const WATCHER_RESYNC_MS = 1000;

/** A watcher's state: live, or lagging (skipped until its socket drains, then sent a fresh screen). */
interface Watch {
  name: string;
  lagging: boolean;
  lastScreenAt: number;
  timer: NodeJS.Timeout | null;
}

type PauseReason = 'socket' | 'browser';

export interface SessionInit {
  id: string;
  userHash: string;
  /** The owner's user id, when known (kept in memory only: it never reaches a sandbox). */
  ownerId: string | null;
  displayName: string;
  courseId: string | null;
  stage: number | null;
  profile: string;
  createdAt: Date;
  expiresAt: Date;
  /** Raw output replayed on attach when `screen` is not given (or says restore: false). */
  scrollbackBytes: number;
  /** Output that shows the program reads keys (input typed before it is held until then); null: at once. */
  inputReadyMarker?: string | null;
  /** How long input is held for a program that never shows the marker. */
  inputReadyTimeoutMs?: number;
  /** How the screen is kept for (re)attaching viewers; default: the last `scrollbackBytes` of raw output. */
  screen?: ScreenSettings;
  now?: () => number;
}

const isFinal = (state: SessionState) => state === 'ended' || state === 'failed';
/** The reason's sentence, then the runtime's detail (e.g. the scheduler's message) when there is one. */
const withDetail = (sentence: string, detail: string | undefined) => (detail ? `${sentence} ${detail}` : sentence);

export class Session {
  readonly id: string;
  readonly userHash: string;
  ownerId: string | null;
  readonly displayName: string;
  readonly courseId: string | null;
  readonly stage: number | null;
  readonly profile: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;

  private _state: SessionState = 'starting';
  private _reason: string | null = null;
  private _detail: string | undefined;
  private _exitCode: number | null = null;
  private _endedAt: Date | null = null;
  private terminal: Terminal | null = null;
  private viewer: Viewer | null = null;
  private screen: ScreenRecord;
  private readonly watchers = new Map<Viewer, Watch>();
  private readonly pendingEvents: SessionEvent[] = [];
  /** Input typed before the program can take it (both runtimes: a pod can take seconds to start). */
  private readonly inputHold: InputHold;
  private readonly inputReadyTimeoutMs: number;
  private inputReadyTimer: NodeJS.Timeout | null = null;
  private readonly pauseReasons = new Set<PauseReason>();
  private lastStatus: ServerMessageBody | null = null;
  private upstreamReason: string | null = null;
  /** The viewer's last requested size, applied when the terminal arrives (resizes can precede it). */
  private size: { cols: number; rows: number } | null = null;
  private readonly outputListeners: Array<(chunk: Buffer) => void> = [];
  private readonly inputListeners: Array<(chunk: Buffer) => void> = [];
  private readonly now: () => number;
  lastInputAt: number;
  /** When the last viewer left (null while one is attached or before the first attach). */
  detachedAt: number | null = null;

  constructor(init: SessionInit) {
    this.id = init.id;
    this.userHash = init.userHash;
    this.ownerId = init.ownerId;
    this.displayName = init.displayName;
    this.courseId = init.courseId;
    this.stage = init.stage;
    this.profile = init.profile;
    this.createdAt = init.createdAt;
    this.expiresAt = init.expiresAt;
    this.screen = createScreenRecord(init.screen ?? { restore: false, scrollbackLines: 0, rawBytes: init.scrollbackBytes }, INITIAL_SIZE);
    this.inputHold = new InputHold(MAX_PENDING_INPUT_BYTES, init.inputReadyMarker ?? null);
    this.inputReadyTimeoutMs = init.inputReadyTimeoutMs ?? 20_000;
    this.now = init.now ?? Date.now;
    this.lastInputAt = this.now();
  }

  get state(): SessionState {
    return this._state;
  }

  get reason(): string | null {
    return this._reason;
  }

  get isActive(): boolean {
    return !isFinal(this._state);
  }

  get hasViewer(): boolean {
    return this.viewer !== null;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Output skipped by the screen record because it came faster than it could be kept. */
  get screenSkippedBytes(): number {
    return this.screen.skippedBytes;
  }

  view(): SessionView {
    return {
      id: this.id,
      state: this._state,
      courseId: this.courseId,
      stage: this.stage,
      createdAt: this.createdAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      endedAt: this._endedAt?.toISOString() ?? null,
      reason: this._reason,
      reasonMessage: this._reason ? withDetail(describeReason(this._reason), this._detail) : null,
      exitCode: this._exitCode,
      attached: this.viewer !== null,
    };
  }

  /** Output observers (e.g. the stage-marker detector). They see every byte, viewer or not. */
  onOutput(listener: (chunk: Buffer) => void): void {
    this.outputListeners.push(listener);
  }

  /** Input observers (e.g. the detector, to ignore echoed input). */
  onInput(listener: (chunk: Buffer) => void): void {
    this.inputListeners.push(listener);
  }

  progress(phase: string, message: string): void {
    if (this._state !== 'starting') return;
    this.sendStatus({ type: 'status', state: 'starting', phase, message });
  }

  /** starting -> running, with the program's terminal. */
  run(terminal: Terminal): void {
    if (this._state !== 'starting') {
      terminal.detach();
      return;
    }
    this.terminal = terminal;
    this._state = 'running';
    if (this.size) terminal.resize(this.size.cols, this.size.rows);
    terminal.onData((chunk) => this.handleOutput(chunk));
    terminal.onDrain(() => this.viewer?.resumeInput());
    this.sendStatus({ type: 'status', state: 'running' });
    if (this.inputHold.isReady) this.releaseInput();
    else this.inputReadyTimer = setTimeout(() => this.releaseInput(), this.inputReadyTimeoutMs).unref();
  }

  /** The program takes keys now: held input goes to it, in order. */
  private releaseInput(): void {
    if (this.inputReadyTimer) clearTimeout(this.inputReadyTimer);
    this.inputReadyTimer = null;
    for (const chunk of this.inputHold.release()) this.terminal?.write(chunk);
  }

  /** Moves to a final state once. Returns false when the session had already ended. */
  finish(state: 'ended' | 'failed', reason: string, exitCode: number | null = null, detail?: string): boolean {
    if (isFinal(this._state)) return false;
    this._state = state;
    this._reason = reason;
    this._detail = detail;
    this._exitCode = exitCode;
    this._endedAt = new Date(this.now());
    this.terminal?.detach();
    this.terminal = null;
    // Nobody can attach to a finished session: let its output and observers go.
    this.screen.dispose();
    this.outputListeners.length = 0;
    this.inputListeners.length = 0;
    this.pendingEvents.length = 0;
    this.inputHold.clear();
    if (this.inputReadyTimer) clearTimeout(this.inputReadyTimer);
    this.inputReadyTimer = null;
    const viewer = this.viewer;
    this.viewer = null;
    const watchers = [...this.watchers.keys()];
    this.clearWatchers();
    for (const each of viewer ? [viewer, ...watchers] : watchers) {
      if (state === 'failed') each.sendControl({ type: 'status', state: 'failed', reason, message: withDetail(describeReason(reason), detail) });
      each.sendControl({ type: 'exit', code: exitCode, reason });
      each.close(CloseCode.ENDED, state === 'failed' ? 'session failed' : 'session ended');
    }
    return true;
  }

  /** Attaches a viewer, taking over from any current one. Sends the screen so it comes back as it was. */
  attach(viewer: Viewer): void {
    const previous = this.viewer;
    this.viewer = viewer;
    this.detachedAt = null;
    this.pauseReasons.clear();
    this.terminal?.resume();
    previous?.close(CloseCode.TAKEN_OVER, 'another viewer attached');
    if (this.lastStatus) viewer.sendControl(this.lastStatus);
    viewer.sendControl({ type: 'watchers', names: this.watcherNames() });
    const replay = this.screen.snapshot();
    if (replay.length > 0) this.sendToViewer(replay);
    for (const event of this.pendingEvents.splice(0)) viewer.sendControl({ type: 'event', ...event });
  }

  /**
   * Adds a read-only watcher (an instructor): it gets the screen and then the output, never pauses the
   * program, and a backed-up watcher is skipped until it drains, then sent a fresh screen. The owner's
   * viewer is told who watches.
   */
  watch(viewer: Viewer, name: string): void {
    if (!this.isActive) {
      viewer.close(CloseCode.ENDED, 'session ended');
      return;
    }
    const watch: Watch = { name, lagging: false, lastScreenAt: 0, timer: null };
    this.watchers.set(viewer, watch);
    if (this.lastStatus) viewer.sendControl(this.lastStatus);
    this.sendScreen(viewer, watch);
    this.announceWatchers();
  }

  unwatch(viewer: Viewer): void {
    const watch = this.watchers.get(viewer);
    if (!watch) return;
    if (watch.timer) clearTimeout(watch.timer);
    this.watchers.delete(viewer);
    this.announceWatchers();
  }

  /** Distinct names of who watches, sorted. */
  watcherNames(): string[] {
    return [...new Set([...this.watchers.values()].map((w) => w.name))].sort();
  }

  /** Detaches `viewer` if it is still the current one (a taken-over viewer detaching changes nothing). */
  detach(viewer: Viewer): void {
    if (this.viewer !== viewer) return;
    this.viewer = null;
    this.detachedAt = this.now();
    this.pauseReasons.clear();
    this.terminal?.resume();
  }

  /** Closes the current viewer's and the watchers' sockets without ending the session (e.g. the server restarts). */
  disconnectViewer(code: number, reason: string): void {
    const watchers = [...this.watchers.keys()];
    this.clearWatchers();
    for (const watcher of watchers) watcher.close(code, reason);
    const viewer = this.viewer;
    if (!viewer) return;
    this.detach(viewer);
    viewer.close(code, reason);
  }

  isViewer(viewer: Viewer): boolean {
    return this.viewer === viewer;
  }

  /** Input from the viewer. Returns false when the program is not taking input fast enough:
   *  the viewer should stop reading until its `resumeInput` is called. */
  input(chunk: Buffer): boolean {
    this.lastInputAt = this.now();
    if (this.terminal && this.inputHold.isReady) {
      for (const listener of this.inputListeners) listener(chunk);
      return this.terminal.write(chunk);
    }
    if (!this.isActive) return true;
    // Held until the program can take it; past the bound the viewer is told once, never dropped silently.
    const held = this.inputHold.hold(chunk);
    if (held === 'held') for (const listener of this.inputListeners) listener(chunk);
    if (held === 'refused') this.viewer?.sendControl({ type: 'error', code: 'input_overflow', message: describeReason('input_overflow') });
    return true;
  }

  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    this.terminal?.resize(cols, rows);
    this.screen.resize(cols, rows);
    for (const watcher of this.watchers.keys()) watcher.sendControl({ type: 'size', cols, rows });
  }

  /** The browser's own flow control (xterm.js falling behind). */
  setBrowserPaused(paused: boolean): void {
    this.setPaused('browser', paused);
  }

  /** The model's API refuses or fails this session's requests (reason), or works again (null). */
  reportUpstream(reason: string | null): void {
    if (this._state !== 'running' || this.upstreamReason === reason) return;
    this.upstreamReason = reason;
    this.sendStatus(reason ? { type: 'status', state: 'running', reason, message: describeReason(reason) } : { type: 'status', state: 'running' });
  }

  emitEvent(event: SessionEvent): void {
    if (this.viewer) {
      this.viewer.sendControl({ type: 'event', ...event });
      return;
    }
    this.pendingEvents.push(event);
    if (this.pendingEvents.length > MAX_PENDING_EVENTS) this.pendingEvents.shift();
  }

  /** Tells the viewer something and keeps it for the next attach (e.g. "starting: pulling image"). */
  private sendStatus(status: ServerMessageBody): void {
    this.lastStatus = status;
    this.viewer?.sendControl(status);
  }

  private handleOutput(chunk: Buffer): void {
    const programNowReads = !this.inputHold.isReady && this.inputHold.noticeOutput(chunk);
    this.screen.append(chunk);
    for (const listener of this.outputListeners) listener(chunk);
    if (this.viewer) this.sendToViewer(chunk);
    for (const [watcher, watch] of this.watchers) {
      if (!watch.lagging && !watcher.sendData(chunk)) this.lag(watcher, watch);
    }
    if (programNowReads) this.releaseInput();
  }

  /** The session's size and screen, to a watcher that starts or catches up. */
  private sendScreen(viewer: Viewer, watch: Watch): void {
    watch.lagging = false;
    watch.lastScreenAt = Date.now();
    viewer.sendControl({ type: 'size', ...(this.size ?? INITIAL_SIZE) });
    if (!viewer.sendData(this.screen.snapshot())) this.lag(viewer, watch);
  }

  /** Skips a backed-up watcher until its socket drains; then (at most every WATCHER_RESYNC_MS) a fresh screen. */
  private lag(viewer: Viewer, watch: Watch): void {
    watch.lagging = true;
    viewer.onceDrained(() => {
      if (this.watchers.get(viewer) !== watch) return;
      const resync = () => {
        watch.timer = null;
        if (this.watchers.get(viewer) === watch) this.sendScreen(viewer, watch);
      };
      const wait = watch.lastScreenAt + WATCHER_RESYNC_MS - Date.now();
      if (wait <= 0) return resync();
      watch.timer = setTimeout(resync, wait);
      watch.timer.unref();
    });
  }

  private announceWatchers(): void {
    this.viewer?.sendControl({ type: 'watchers', names: this.watcherNames() });
  }

  private clearWatchers(): void {
    for (const watch of this.watchers.values()) if (watch.timer) clearTimeout(watch.timer);
    this.watchers.clear();
  }

  /** Sends output on; when the viewer is backed up, the program waits until it has drained. */
  private sendToViewer(chunk: Buffer): void {
    const viewer = this.viewer;
    if (!viewer || viewer.sendData(chunk) || this.pauseReasons.has('socket')) return;
    this.setPaused('socket', true);
    viewer.onceDrained(() => {
      if (this.viewer === viewer) this.setPaused('socket', false);
    });
  }

  private setPaused(reason: PauseReason, paused: boolean): void {
    const wasPaused = this.pauseReasons.size > 0;
    if (paused) this.pauseReasons.add(reason);
    else this.pauseReasons.delete(reason);
    const isPaused = this.pauseReasons.size > 0;
    if (isPaused && !wasPaused) this.terminal?.pause();
    if (!isPaused && wasPaused) this.terminal?.resume();
  }
}
