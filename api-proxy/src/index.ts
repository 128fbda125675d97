// The embeddable API: web-terminal (local mode) runs the same proxy core in-process.
export { loadProxyConfig, ConfigError, CONFIG_VARIABLES, type ProxyConfig } from './config.ts';
export { createProxy, type Proxy, type ProxyDeps } from './proxy.ts';
export {
  issueSessionCredential,
  verifySessionCredential,
  type SessionClaims,
  type VerifyResult,
  type VerifyFailure,
} from './credentials.ts';
export { createProxyServer } from './server.ts';
export { SnapshotStore, type LiveSessions, type LiveSession, type Snapshot } from './live-sessions.ts';
export { signControlBody, verifyControlSignature, CONTROL_SIGNATURE_HEADER } from './control-signature.ts';
export { CONTROL_PATH, type ControlReply } from './control.ts';
export type { UpstreamReason } from './upstream-outcomes.ts';
export { ALLOWED_BETAS } from './betas.ts';
