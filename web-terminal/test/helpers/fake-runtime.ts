// A SessionRuntime that runs nothing: records calls, and lets a test script starts, output and exits.
import { EventEmitter } from 'node:events';
import { SandboxError } from '../../src/runtime/types.ts';
import type { SandboxRecord, SandboxSpec, SessionRuntime, Terminal, TerminalExit } from '../../src/runtime/types.ts';

export class FakeTerminal implements Terminal {
  readonly written: Buffer[] = [];
  paused = false;
  size = { cols: 80, rows: 24 };
  private readonly events = new EventEmitter();
  onData(listener: (chunk: Buffer) => void) { this.events.on('data', listener); }
  onExit(listener: (exit: TerminalExit) => void) { this.events.on('exit', listener); }
  onDrain(listener: () => void) { this.events.on('drain', listener); }
  write(data: Buffer) { this.written.push(data); return true; }
  resize(cols: number, rows: number) { this.size = { cols, rows }; }
  pause() { this.paused = true; }
  resume() { this.paused = false; }
  detach() { this.events.removeAllListeners(); }
  emitData(text: string) { this.events.emit('data', Buffer.from(text)); }
  emit(chunk: Buffer) { this.events.emit('data', chunk); }
  exit(exit: TerminalExit) { this.events.emit('exit', exit); }
}

export class FakeRuntime implements SessionRuntime {
  readonly kind = 'local' as const;
  readonly started: SandboxSpec[] = [];
  readonly stopped: string[] = [];
  readonly terminals = new Map<string, FakeTerminal>();
  /** Set to make the next start fail with this reason. */
  failNext: string | null = null;

  async start(spec: SandboxSpec): Promise<Terminal> {
    this.started.push(spec);
    if (this.failNext) {
      const reason = this.failNext;
      this.failNext = null;
      throw new SandboxError(reason, `scripted failure: ${reason}`);
    }
    const terminal = new FakeTerminal();
    this.terminals.set(spec.sessionId, terminal);
    return terminal;
  }
  async attach(sessionId: string): Promise<Terminal> {
    throw new SandboxError('not_found', sessionId);
  }
  async stop(sessionId: string): Promise<void> {
    this.stopped.push(sessionId);
    this.terminals.delete(sessionId);
  }
  async list(): Promise<SandboxRecord[]> {
    return [];
  }
  async health() {
    return { ok: true };
  }
  async close() {}
}
