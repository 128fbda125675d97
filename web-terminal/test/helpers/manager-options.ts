// The options a session manager under test gets unless a test says otherwise: a fake runtime, small
// limits, a fixed credential and no courses.
import { pino } from 'pino';
import { createMetrics } from '../../src/metrics.ts';
import { makeUserHasher } from '../../src/sessions/ids.ts';
import type { SessionManagerOptions } from '../../src/sessions/manager.ts';
import type { SessionRuntime } from '../../src/runtime/types.ts';

export const TEST_USER_SECRET = 'test-secret';

export function managerOptions(runtime: SessionRuntime, overrides: Partial<SessionManagerOptions> = {}): SessionManagerOptions {
  return {
    runtime,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    limits: { maxSessions: 4, maxSessionsPerUser: 2, createsPerMinute: 100 },
    timeouts: { sessionSeconds: 3600, idleSeconds: 600, graceSeconds: 120 },
    scrollbackBytes: 1024,
    command: ['/bin/sh'],
    hashUser: makeUserHasher(TEST_USER_SECRET),
    issueCredential: (c) => `cred-${c.sessionId}`,
    findCourse: () => undefined,
    allowedProfiles: ['default'],
    ...overrides,
  };
}
