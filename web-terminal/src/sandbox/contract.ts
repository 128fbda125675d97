// The sandbox contract shared by both runtimes: the environment every sandbox gets, and the one rule
// for how a session's own variables combine with it. The local runtime (bubblewrap) and the pure pod
// builder both call `sandboxEnvironment`; neither retypes any of it.

/** Switches that stop Claude Code from contacting anything but the API proxy (see docs/claude-code-version.md). */
export const CLAUDE_CODE_QUIET_ENV: Readonly<Record<string, string>> = Object.freeze({
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: '1',
});

/**
 * How the sandbox reaches the API proxy.
 * - `socket`: the proxy's unix socket is mounted at `path` (local runtime). Claude Code's own
 *   ANTHROPIC_UNIX_SOCKET sends its API requests there, so no forwarder runs in the sandbox; the
 *   base URL only names the Host header.
 * - `url`: the proxy is reachable over the network (the api-proxy Service on Kubernetes).
 * - `none`: no way out at all (unsandboxed local sessions must not reach whatever listens on the host).
 */
export type ProxyRoute = { kind: 'socket'; path: string } | { kind: 'url'; url: string } | { kind: 'none' };

/** Base URL given with a socket route: only its host reaches the proxy (as the Host header). */
export const SOCKET_BASE_URL = 'http://api-proxy';

export interface SandboxEnvInput {
  sessionId: string;
  /** The session's proxy credential (never the real key). */
  credential: string;
  proxy: ProxyRoute;
  home: string;
  /** The folder Claude Code starts in and trusts (the entry script changes to it). */
  workdir: string;
  course: { id: string } | null;
  /** What the runtime needs on top (PATH, USER, ...): the contract's own names win over these. */
  runtime: Record<string, string>;
  /** The session's own variables (non-secret, e.g. the first prompt): they may only add names. */
  session: Record<string, string>;
}

/**
 * The whole environment of a sandbox. Precedence, the same in both runtimes: the contract's names
 * first (nothing may repoint the sandbox away from the proxy or change its identity), then the
 * runtime's, then the session's, which can only add names nobody else set.
 */
export function sandboxEnvironment(input: SandboxEnvInput): Record<string, string> {
  const fixed: Record<string, string> = {
    HOME: input.home,
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    CLAUDECODE_SESSION_ID: input.sessionId,
    CLAUDECODE_WORKDIR: input.workdir,
    ANTHROPIC_API_KEY: input.credential,
    ...CLAUDE_CODE_QUIET_ENV,
    ...proxyEnv(input.proxy),
  };
  if (input.course) fixed.COURSE_ID = input.course.id;
  const env: Record<string, string> = {};
  for (const layer of [input.session, input.runtime]) Object.assign(env, withoutProxyNames(layer));
  return Object.assign(env, fixed);
}

/** Only the contract says where the model's API is: with no route, nothing else may name one. */
function withoutProxyNames(layer: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(layer).filter(([name]) => !name.startsWith('ANTHROPIC_')));
}

function proxyEnv(route: ProxyRoute): Record<string, string> {
  if (route.kind === 'socket') return { ANTHROPIC_UNIX_SOCKET: route.path, ANTHROPIC_BASE_URL: SOCKET_BASE_URL };
  if (route.kind === 'url') return { ANTHROPIC_BASE_URL: route.url };
  return {};
}
