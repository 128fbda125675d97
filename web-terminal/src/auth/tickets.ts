// One-time tickets for opening a session's terminal socket. A browser cannot put an Authorization
// header on a WebSocket, and a long-lived credential in a URL ends up in logs and history; a ticket is
// random, short-lived, bound to one user and one session, and gone once presented (even when it
// does not fit). Kept in memory: a ticket outlives neither the process nor its TTL.
import { randomBytes } from 'node:crypto';
import type { Identity } from '../types.ts';

/** What a ticket opens: the owner's terminal socket, or a read-only watcher's socket. */
export type SocketAccess = 'owner' | 'watch';

export interface TicketGrant {
  identity: Identity;
  sessionId: string;
  access: SocketAccess;
}

interface Entry extends TicketGrant {
  expiresAt: number;
}

export interface TicketStoreOptions {
  ttlSeconds: number;
  /** Tickets held at once, all users together; the oldest goes first. */
  maxTickets?: number;
  /** Unredeemed tickets one user may hold; their oldest goes first (one user cannot flush the others'). */
  maxPerUser?: number;
  now?: () => number;
}

export class TicketStore {
  // Insertion order is expiry order (one TTL for all), so expired entries sit at the front.
  private readonly entries = new Map<string, Entry>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly ttlMs: number;
  private readonly maxTickets: number;
  private readonly maxPerUser: number;
  private readonly now: () => number;

  constructor(opts: TicketStoreOptions) {
    this.ttlMs = opts.ttlSeconds * 1000;
    this.maxTickets = opts.maxTickets ?? 10_000;
    this.maxPerUser = opts.maxPerUser ?? 32;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A new ticket (32 random bytes, base64url) for this user, session and kind of access. */
  issue(identity: Identity, sessionId: string, access: SocketAccess = 'owner'): string {
    this.evictExpired();
    const mine = this.byUser.get(identity.userId);
    if (mine && mine.size >= this.maxPerUser) this.delete(mine.values().next().value!);
    if (this.entries.size >= this.maxTickets) this.delete(this.entries.keys().next().value!);
    const ticket = randomBytes(32).toString('base64url');
    this.entries.set(ticket, { identity, sessionId, access, expiresAt: this.now() + this.ttlMs });
    if (mine) mine.add(ticket);
    else this.byUser.set(identity.userId, new Set([ticket]));
    return ticket;
  }

  /** Consumes the ticket: its grant when it exists and has not expired, else undefined. Never twice. */
  redeem(ticket: string): TicketGrant | undefined {
    const entry = this.entries.get(ticket);
    if (!entry) return undefined;
    this.delete(ticket);
    if (entry.expiresAt <= this.now()) return undefined;
    return { identity: entry.identity, sessionId: entry.sessionId, access: entry.access };
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [ticket, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.delete(ticket);
    }
  }

  private delete(ticket: string): void {
    const entry = this.entries.get(ticket);
    if (!entry) return;
    this.entries.delete(ticket);
    const mine = this.byUser.get(entry.identity.userId);
    mine?.delete(ticket);
    if (mine && mine.size === 0) this.byUser.delete(entry.identity.userId);
  }
}
