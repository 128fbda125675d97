// Domain types shared across the web-terminal service.

export type SessionState = 'starting' | 'running' | 'ended' | 'failed';

/** Who is calling. Established by the auth layer; the rest of the service only reads it. */
export interface Identity {
  /** Stable, unique user id from the identity source (never shown to a sandbox). */
  userId: string;
  /** What the UI shows. */
  displayName: string;
  isAdmin: boolean;
  /** May watch any running session read-only (administrators may too). Absent means no. */
  isInstructor?: boolean;
}

/** The public view of a session (what the REST API returns). */
export interface SessionView {
  id: string;
  state: SessionState;
  courseId: string | null;
  stage: number | null;
  createdAt: string;
  expiresAt: string;
  endedAt: string | null;
  /** Short machine-readable reason when the session failed or ended abnormally. */
  reason: string | null;
  /** The reason as one plain sentence (from the reason catalog, the same the page shows). */
  reasonMessage: string | null;
  exitCode: number | null;
  attached: boolean;
}

/** An event pushed to the session's viewer, e.g. stage completion. */
export interface SessionEvent {
  name: 'stage_complete' | 'course_complete';
  courseId: string;
  stage?: number;
  completedAt: string;
}
