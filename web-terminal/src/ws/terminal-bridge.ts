// WebSocket <-> session terminal. Binary frames are terminal bytes both ways; text frames are JSON
// control. Checks run at upgrade time, before anything is attached. Flow control both ways: output
// pauses the program while the owner's socket is backed up; input pauses reading the socket while the
// program is not taking it. A watcher's socket (/ws/sessions/:id/watch) is read-only: everything it
// sends but ping is ignored, and its backlog never pauses the program (the session skips it instead).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Identity } from '../types.ts';
import type { SocketAccess } from '../auth/tickets.ts';
import type { ServiceMetrics } from '../metrics.ts';
import type { SessionManager } from '../sessions/manager.ts';
import type { Session } from '../sessions/session.ts';
import type { Viewer } from '../sessions/viewer.ts';
import { isSessionId } from '../sessions/ids.ts';
import { HOST_REFUSAL } from '../http/host-allowlist.ts';
import type { HostAllowlist } from '../http/host-allowlist.ts';
import { isOriginAllowed } from './origin.ts';
import { CloseCode, encodeServerMessage, parseControlMessage } from './protocol.ts';

export interface TerminalBridgeOptions {
  server: Server;
  manager: SessionManager;
  logger: Logger;
  metrics: ServiceMetrics;
  allowedOrigins: readonly string[];
  /** Host names the service answers (DNS rebinding); checked before anything else. */
  hosts: HostAllowlist;
  maxMessageBytes: number;
  /** Who is upgrading, for this session and this kind of access; null refuses the upgrade. */
  authenticateUpgrade: (req: IncomingMessage, sessionId: string, url: URL, access: SocketAccess) => Promise<Identity | null> | Identity | null;
  heartbeatMs?: number;
}

const SESSION_PATH = /^\/ws\/sessions\/([^/]+)(\/watch)?$/;
/** Output waiting in the socket above which the program is paused until the socket drains. */
export const OUTPUT_HIGH_WATER_BYTES = 1024 * 1024;
/** Output waiting in a watcher's socket above which the watcher is skipped until it drains. */
export const WATCHER_HIGH_WATER_BYTES = 256 * 1024;

export function attachTerminalBridge(opts: TerminalBridgeOptions): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes, perMessageDeflate: false });
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  // Resolved once: label lookups on every chunk cost measurable throughput.
  const outputBytes = opts.metrics.bridgedBytes.labels('output');
  const inputBytes = opts.metrics.bridgedBytes.labels('input');

  const refuse = (socket: Duplex, status: number, text: string, reason: string) => {
    opts.metrics.rejections.inc({ reason });
    const body = JSON.stringify({ error: { code: reason, message: text } });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!opts.hosts.allows(req.headers.host)) return refuse(socket, HOST_REFUSAL.status, HOST_REFUSAL.text, HOST_REFUSAL.code);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, 400, 'Bad Request', 'bad_request_target');
    }
    const match = SESSION_PATH.exec(url.pathname);
    if (!match) return refuse(socket, 404, 'Not Found', 'ws_not_found');
    const sessionId = match[1]!;
    const access: SocketAccess = match[2] ? 'watch' : 'owner';
    if (!isOriginAllowed(req, opts.allowedOrigins, opts.hosts)) return refuse(socket, 403, 'Forbidden', 'forbidden_origin');
    let identity: Identity | null;
    try {
      identity = await opts.authenticateUpgrade(req, sessionId, url, access);
    } catch (err) {
      opts.logger.warn({ err }, 'websocket authentication failed');
      identity = null;
    }
    if (!identity) return refuse(socket, 401, 'Unauthorized', 'unauthenticated');
    const find = access === 'watch' ? opts.manager.getForWatching.bind(opts.manager) : opts.manager.get.bind(opts.manager);
    const session = isSessionId(sessionId) ? find(identity, sessionId) : undefined;
    if (!session || !session.isActive) return refuse(socket, 404, 'Not Found', 'session_not_found');
    const watcher = identity;
    wss.handleUpgrade(req, socket, head, (ws) => (access === 'watch' ? watch(ws, session, watcher) : bridge(ws, session)));
  };

  /** Pings the peer; a peer that stops answering (while it is read) is cut off. */
  const keepAlive = (ws: WebSocket, isReading: () => boolean) => {
    let alive = true;
    ws.on('pong', () => {
      alive = true;
    });
    const heartbeat = setInterval(() => {
      // While input is paused the socket is not read, so pongs cannot arrive: that is not a dead peer.
      if (!alive && isReading()) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, heartbeatMs);
    return {
      markAlive: () => {
        alive = true;
      },
      stop: () => clearInterval(heartbeat),
    };
  };

  const socketViewer = (ws: WebSocket, highWater: number, resumeInput: () => void): Viewer => {
    const rawSocket = (ws as unknown as { _socket: Duplex })._socket;
    return {
      sendData: (chunk) => {
        if (ws.readyState !== ws.OPEN) return true;
        outputBytes.inc(chunk.length);
        ws.send(chunk, { binary: true });
        return ws.bufferedAmount < highWater;
      },
      onceDrained: (listener) => {
        // ws queues on the TCP socket: once it drains, everything sent has left the process.
        if (ws.bufferedAmount === 0) return void queueMicrotask(listener);
        rawSocket.once('drain', listener);
      },
      sendControl: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(encodeServerMessage(message));
      },
      resumeInput,
      close: (code, reason) => {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
      },
    };
  };

  /** A read-only socket: the screen and the output, nothing it sends reaches the session. */
  const watch = (ws: WebSocket, session: Session, watcher: Identity) => {
    opts.metrics.viewers.inc();
    const viewer = socketViewer(ws, WATCHER_HIGH_WATER_BYTES, () => undefined);
    const heartbeat = keepAlive(ws, () => true);
    const log = { sessionId: session.id, ownerHash: session.userHash, watcherId: watcher.userId, watcherName: watcher.displayName };
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const parsed = parseControlMessage(data.toString());
      if (parsed.ok && parsed.message.type === 'ping') viewer.sendControl({ type: 'pong' });
    });
    ws.on('close', () => {
      heartbeat.stop();
      opts.metrics.viewers.dec();
      session.unwatch(viewer);
      opts.logger.info(log, 'watching ended');
    });
    ws.on('error', (err) => opts.logger.debug({ err, sessionId: session.id }, 'websocket error'));
    opts.logger.info(log, 'watching started');
    session.watch(viewer, watcher.displayName);
  };

  const bridge = (ws: WebSocket, session: Session) => {
    opts.metrics.viewers.inc();
    const rawSocket = (ws as unknown as { _socket: Duplex })._socket;
    let inputPaused = false;
    const heartbeat = keepAlive(ws, () => !inputPaused);
    const viewer = socketViewer(ws, OUTPUT_HIGH_WATER_BYTES, () => {
      inputPaused = false;
      heartbeat.markAlive();
      rawSocket.resume();
    });

    ws.on('message', (data, isBinary) => {
      if (!session.isViewer(viewer)) return;
      if (isBinary) {
        const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        inputBytes.inc(chunk.length);
        if (!session.input(chunk)) {
          inputPaused = true;
          rawSocket.pause();
        }
        return;
      }
      const parsed = parseControlMessage(data.toString());
      if (!parsed.ok) {
        opts.metrics.rejections.inc({ reason: 'bad_control_message' });
        viewer.sendControl({ type: 'error', code: 'bad_message', message: parsed.error });
        return;
      }
      const message = parsed.message;
      switch (message.type) {
        case 'resize':
          session.resize(message.cols, message.rows);
          break;
        case 'ping':
          viewer.sendControl({ type: 'pong' });
          break;
        case 'pause':
          session.setBrowserPaused(true);
          break;
        case 'resume':
          session.setBrowserPaused(false);
          break;
      }
    });

    ws.on('close', () => {
      heartbeat.stop();
      opts.metrics.viewers.dec();
      session.detach(viewer);
    });
    ws.on('error', (err) => opts.logger.debug({ err, sessionId: session.id }, 'websocket error'));

    session.attach(viewer);
  };

  const listener = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(req, socket, head).catch((err: unknown) => {
      opts.logger.warn({ err }, 'websocket upgrade failed');
      socket.destroy();
    });
  };
  opts.server.on('upgrade', listener);
  return {
    close() {
      opts.server.off('upgrade', listener);
      for (const client of wss.clients) client.close(CloseCode.GOING_AWAY, 'server shutting down');
      wss.close();
    },
  };
}
