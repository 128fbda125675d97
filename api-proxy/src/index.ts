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
