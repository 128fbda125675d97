// Kubernetes mode: tells the standalone api-proxy which sessions are live. The api-proxy accepts a
// session credential only while a fresh snapshot from some web-terminal lists that session, so this
// pushes one whenever the set changes and at least every second (a heartbeat). A snapshot expires
// after its ttl: if this instance stops, its sessions' credentials stop working (fail closed).
// The reply carries what the upstream recently did to these sessions, for the learners' pages.
import type { Logger } from 'pino';
import type { SessionManager } from './sessions/manager.ts';
import { CONTROL_PATH, CONTROL_SIGNATURE_HEADER, signControlBody, type ControlReply } from 'api-proxy';
import { z } from 'zod';

export interface SnapshotPusherOptions {
  /** Base URL of the api-proxy's internal port (API_PROXY_CONTROL_URL). */
  url: string;
  secret: string;
  /** Names this instance among the web-terminals that push (each keeps its own snapshot). */
  source: string;
  liveSessions(): Array<{ id: string; userHash: string }>;
  /** Whether this instance manages its scope's sessions now; a standby instance must not push (its
   *  empty set would replace the active instance's snapshot of the same source). Default: always. */
  active?(): boolean;
  onReply(reply: ControlReply): void;
  logger: Logger;
  heartbeatMs?: number;
  checkMs?: number;
  ttlMs?: number;
  requestTimeoutMs?: number;
}

export interface SnapshotPusher {
  close(): void;
}

const replySchema = z.object({
  apiKeyConfigured: z.boolean(),
  outcomes: z.record(z.string(), z.string().max(64).nullable()),
});

export function startSnapshotPusher(o: SnapshotPusherOptions): SnapshotPusher {
  const heartbeatMs = o.heartbeatMs ?? 1000;
  // Long enough to ride out a restart of this service (sessions' pods keep running meanwhile); ended
  // sessions do not wait for it, since every change is pushed at once.
  const ttlMs = o.ttlMs ?? 15_000;
  const endpoint = new URL(CONTROL_PATH, o.url);
  let lastKey = '';
  let lastPushAt = 0;
  let lastStamp = 0;
  let inFlight = false;
  /** After a failed push, wait a heartbeat before the next try. */
  let retryAt = 0;
  let failing = false;
  let closed = false;

  async function push(sessions: Array<{ id: string; userHash: string }>, key: string): Promise<void> {
    inFlight = true;
    try {
      const body = JSON.stringify({ source: o.source, sessions, ttlMs });
      // Stamps must increase for the api-proxy (it refuses replays), even within one millisecond.
      lastStamp = Math.max(Date.now(), lastStamp + 1);
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONTROL_SIGNATURE_HEADER]: signControlBody(o.secret, body, lastStamp) },
        body,
        signal: AbortSignal.timeout(o.requestTimeoutMs ?? 2000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`api-proxy answered ${res.status} (${res.headers.get('x-proxy-rejection') ?? 'no reason'})`);
      const reply = replySchema.parse(JSON.parse(text));
      lastKey = key;
      lastPushAt = Date.now();
      if (failing) o.logger.info('api-proxy accepts live-session snapshots again');
      failing = false;
      o.onReply(reply);
    } catch (err) {
      // Logged once per outage: the heartbeat would otherwise log every second.
      if (!failing) o.logger.warn({ err: { message: (err as Error).message }, url: o.url }, 'cannot push live sessions to the api-proxy; it refuses this instance\'s session credentials until a push succeeds');
      failing = true;
      retryAt = Date.now() + heartbeatMs;
    } finally {
      inFlight = false;
    }
  }

  const timer = setInterval(() => {
    if (closed || inFlight || Date.now() < retryAt || (o.active && !o.active())) return;
    const sessions = o.liveSessions().sort((a, b) => (a.id < b.id ? -1 : 1));
    const key = sessions.map((s) => `${s.id}:${s.userHash}`).join(',');
    if (key !== lastKey || Date.now() - lastPushAt >= heartbeatMs) void push(sessions, key);
  }, o.checkMs ?? 100);
  timer.unref();

  return {
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

/**
 * Kubernetes mode's wiring: pushes the manager's live sessions to the api-proxy at `url`, passes the
 * outcomes of its replies to the sessions, and warns when nothing can work (no URL, no upstream key).
 */
export function pushLiveSessions(o: {
  url: string | undefined;
  secret: string;
  /** One source per scope: the Lease makes its holder the only instance that pushes for it. */
  source: string;
  /** Whether this instance manages its scope's sessions now (a standby one must not push). */
  active(): boolean;
  manager: Pick<SessionManager, 'listAll' | 'reportUpstream'>;
  logger: Logger;
  onApiKeyConfigured(configured: boolean): void;
}): SnapshotPusher | null {
  if (!o.url) {
    o.logger.warn('API_PROXY_CONTROL_URL is not set: the api-proxy will refuse every session credential');
    return null;
  }
  let warnedNoKey = false;
  return startSnapshotPusher({
    url: o.url,
    secret: o.secret,
    source: o.source,
    active: o.active,
    liveSessions: () => o.manager.listAll().filter((s) => s.isActive).map((s) => ({ id: s.id, userHash: s.userHash })),
    onReply: (reply) => {
      o.onApiKeyConfigured(reply.apiKeyConfigured);
      if (!reply.apiKeyConfigured && !warnedNoKey) o.logger.warn('the api-proxy has no API key configured: sessions start, but Claude Code cannot answer');
      warnedNoKey ||= !reply.apiKeyConfigured;
      for (const [id, reason] of Object.entries(reply.outcomes)) o.manager.reportUpstream(id, reason);
    },
    logger: o.logger,
  });
}
