// A WebSocket terminal client for tests: collects output, waits for text, sends keys and control.
import { WebSocket } from 'ws';

export interface TerminalClient {
  ws: WebSocket;
  output(): string;
  controls: Array<Record<string, unknown>>;
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  waitForControl(predicate: (msg: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  type(text: string): void;
  control(msg: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export function openTerminal(url: string, opts: { origin?: string; headers?: Record<string, string> } = {}): Promise<TerminalClient> {
  const ws = new WebSocket(url, { headers: { ...(opts.origin ? { origin: opts.origin } : {}), ...opts.headers } });
  const chunks: Buffer[] = [];
  const controls: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  // Handlers are attached before `open`, so nothing that arrives with the handshake is lost.
  ws.on('message', (data, isBinary) => {
    if (isBinary) chunks.push(Buffer.from(data as Buffer));
    else controls.push(JSON.parse(data.toString()) as Record<string, unknown>);
    notify();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      notify();
    });
  });
  const output = () => Buffer.concat(chunks).toString('utf8');
  const waitUntil = <T>(check: () => T | undefined, what: string, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value !== undefined) {
          cleanup();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; output so far: ${JSON.stringify(output().slice(-500))}; controls: ${JSON.stringify(controls.slice(-5))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(attempt);
      };
      waiters.add(attempt);
      attempt();
    });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })));
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined);
      resolve({
        ws,
        output,
        controls,
        closed,
        waitFor: (pattern, timeoutMs = 15_000) =>
          waitUntil(() => {
            const text = output();
            return (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) ? text : undefined;
          }, String(pattern), timeoutMs),
        waitForControl: (predicate, timeoutMs = 15_000) => waitUntil(() => controls.find(predicate), 'control message', timeoutMs),
        type: (text) => ws.send(Buffer.from(text), { binary: true }),
        control: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
        async close() {
          if (ws.readyState === ws.OPEN) ws.close(1000);
          await closed;
        },
      });
    });
  });
}

export const wsUrl = (serviceUrl: string, path: string) => serviceUrl.replace(/^http/, 'ws') + path;
