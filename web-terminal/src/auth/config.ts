// Configuration of identity and access. Composed into the service config; the rules that span several
// variables (what each mode requires) live in safety.ts and run when the service starts.
import { z } from 'zod';
import { boolVar, intVar, listVar, optionalString } from '../config/env.ts';
import { isValidCidr } from './cidr.ts';

const headerName = (def: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name')
    .default(def)
    .transform((v) => v.toLowerCase());

const optionalHeaderName = () =>
  optionalString()
    .refine((v) => v === undefined || /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(v), 'must be an HTTP header name')
    .transform((v) => v?.toLowerCase());

export const authConfigShape = {
  AUTH_MODE: z.enum(['none', 'trusted-header', 'jwt']).default('none')
    .describe('How callers are identified: `none` (one local user), `trusted-header` (behind an authenticating proxy) or `jwt`.'),
  AUTH_ALLOW_UNAUTHENTICATED_NETWORK: boolVar(false)
    .describe('DANGEROUS. Allows AUTH_MODE=none on a non-loopback HOST: anyone who can reach the port gets a sandbox.'),
  AUTH_USER_HEADER: headerName('x-auth-request-user')
    .describe('trusted-header: request header carrying the user id (set by the authenticating proxy).'),
  AUTH_EMAIL_HEADER: optionalHeaderName()
    .describe('trusted-header: optional header carrying the user\'s email, shown as the display name (e.g. `x-auth-request-email`).'),
  AUTH_GROUPS_HEADER: optionalHeaderName()
    .describe('trusted-header: optional header carrying the user\'s groups, comma-separated (e.g. `x-auth-request-groups`).'),
  AUTH_ADMIN_GROUPS: listVar()
    .describe('trusted-header: groups (comma-separated) whose members are administrators.'),
  AUTH_ADMIN_USERS: listVar()
    .describe('trusted-header and jwt: user ids (comma-separated) that are administrators.'),
  AUTH_INSTRUCTOR_GROUPS: listVar()
    .describe('trusted-header: groups (comma-separated) whose members are instructors: they may watch any running session read-only (the learner is shown who watches).'),
  AUTH_INSTRUCTOR_USERS: listVar()
    .describe('User ids (comma-separated) that are instructors, in every mode (`local` is the user of AUTH_MODE=none). Administrators may watch sessions too.'),
  AUTH_TRUSTED_PROXIES: listVar()
    .refine((list) => list.every(isValidCidr), 'must be a comma-separated list of IP addresses or CIDR ranges (IPv4 or IPv6)')
    .describe('trusted-header (required): peer addresses (CIDRs, e.g. `10.42.0.0/16,::1/128`) whose identity headers are believed. From anyone else the headers are ignored.'),
  AUTH_JWT_SECRET: optionalString()
    .describe('jwt: shared secret for HS256 tokens (at least 32 bytes). Prefer AUTH_JWT_SECRET_FILE.'),
  AUTH_JWT_SECRET_FILE: optionalString()
    .describe('jwt: file holding the HS256 secret (a mounted Secret).'),
  AUTH_JWKS_FILE: optionalString()
    .describe('jwt: JSON Web Key Set file with the public keys of RS256/ES256 tokens.'),
  AUTH_JWKS_URL: optionalString()
    .refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), 'must be an http(s) URL')
    .describe('jwt: URL of a JSON Web Key Set (RS256/ES256), fetched and cached; e.g. an identity provider\'s `jwks_uri`.'),
  AUTH_JWT_ISSUER: optionalString()
    .describe('jwt (required): the expected `iss` claim.'),
  AUTH_JWT_AUDIENCE: optionalString()
    .describe('jwt (required): the expected `aud` claim.'),
  AUTH_JWT_CLOCK_SKEW_SECONDS: intVar(30, 0, 600)
    .describe('jwt: tolerated clock difference when checking `exp` and `nbf`.'),
  AUTH_JWT_ADMIN_CLAIM: optionalString()
    .refine((v) => v === undefined || /^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*(=.+)?$/.test(v), 'must be `claim` or `claim=value` (claim may be a dotted path)')
    .describe('jwt: which claim makes an administrator. `admin`: the claim `admin` is `true`; `roles=admin`: the claim `roles` is "admin" or an array containing it. A dotted path reaches nested claims (`realm_access.roles=admin`). Unset: nobody is an administrator through a token.'),
  AUTH_JWT_INSTRUCTOR_CLAIM: optionalString()
    .refine((v) => v === undefined || /^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*(=.+)?$/.test(v), 'must be `claim` or `claim=value` (claim may be a dotted path)')
    .describe('jwt: which claim makes an instructor, in the form of AUTH_JWT_ADMIN_CLAIM (e.g. `roles=instructor`). Unset: nobody is an instructor through a token.'),
  AUTH_JWT_COOKIE: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a cookie name').default('claudecode_token')
    .describe('jwt: cookie that may carry the token instead of an `Authorization: Bearer` header.'),
  AUTH_TICKET_TTL_SECONDS: intVar(30, 5, 600)
    .describe('Lifetime of the one-time ticket in a session\'s `wsUrl`.'),
};
