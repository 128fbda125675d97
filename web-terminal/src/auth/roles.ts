// What a role allows, decided in one place.
import type { Identity } from '../types.ts';

/** Instructors and administrators may watch any running session read-only. */
export const canWatchSessions = (identity: Identity): boolean => identity.isAdmin || identity.isInstructor === true;
