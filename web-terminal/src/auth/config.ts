// Configuration of identity and access. Composed into the service config.
import { z } from 'zod';
import { boolVar } from '../config/env.ts';

export const authConfigShape = {
  AUTH_MODE: z.enum(['none', 'trusted-header', 'jwt']).default('none')
    .describe('How callers are identified: `none` (one local user), `trusted-header` (behind an authenticating proxy) or `jwt`.'),
  AUTH_ALLOW_UNAUTHENTICATED_NETWORK: boolVar(false)
    .describe('DANGEROUS. Allows AUTH_MODE=none on a non-loopback HOST: anyone who can reach the port gets a sandbox.'),
};
