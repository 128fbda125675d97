// Composition root: config -> logger/metrics -> runtime (+ local proxy) -> session manager -> routes -> WebSocket.
// Owns the order of start-up and of graceful shutdown; nothing else lives here.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { issueSessionCredential } from 'api-proxy';
import type { Config } from './config.ts';
import { readSharedSecret } from './config/shared-secret.ts';
import { buildTutorBrief } from './courses/first-prompt.ts';
import { identityMiddleware } from './auth/authenticator.ts';
import { createAuth } from './auth/index.ts';
import type { Auth } from './auth/index.ts';
import { getIdentity } from './auth/identity.ts';
import { ApiError, errorHandler } from './http/errors.ts';
import { createHostAllowlist, hostGuard } from './http/host-allowlist.ts';
import { startMetricsServer } from './http/metrics-server.ts';
import type { MetricsServer } from './http/metrics-server.ts';
import { securityHeaders } from './http/security-headers.ts';
import { startLocalProxy } from './local-proxy.ts';
import type { LocalProxy } from './local-proxy.ts';
import { createMetrics } from './metrics.ts';
import type { ServiceMetrics } from './metrics.ts';
import { loadCourseCatalog } from './courses/catalog.ts';
import { createProgressService } from './courses/progress-service.ts';
import { courseRefs, watchForMarkers } from './courses/session-courses.ts';
import { openProgressStore } from './db/progress.ts';
import { openHistory } from './history/index.ts';
import { createAdminRoutes } from './routes/admin.ts';
import { createAnswerRoutes } from './routes/answers.ts';
import { createProgressRoutes } from './routes/progress.ts';
import { createCourseRoutes } from './routes/stages.ts';
import { createHealthRoutes } from './routes/health.ts';
import { createInfoRoutes } from './routes/info.ts';
import { pushLiveSessions } from './proxy-snapshots.ts';
import { createHistoryRoutes } from './routes/history.ts';
import { createSessionRoutes } from './routes/sessions.ts';
import { createWatchRoutes } from './routes/watch.ts';
import { createLocalRuntime } from './runtime/local/local-runtime.ts';
import { allowedProfiles } from './runtime/kubernetes/profiles.ts';
import type { SessionRuntime } from './runtime/types.ts';
import { CLAUDE_COMMAND_LINE, inputReadyMarker, resolveSessionCommand } from './sandbox-command.ts';
import { makeUserHasher } from './sessions/ids.ts';
import { SessionManager } from './sessions/manager.ts';
import { createWarmPool, parsePoolKeys } from './sessions/warm-sandboxes.ts';
import { createStaticRoutes } from './static-assets.ts';
import { attachTerminalBridge } from './ws/terminal-bridge.ts';

export interface Service {
  url: string;
  port: number;
  /** Where /metrics is served (its own listener), or null when METRICS_PORT is unset. */
  metricsUrl: string | null;
  manager: SessionManager;
  runtime: SessionRuntime;
  metrics: ServiceMetrics;
  logger: Logger;
  close(): Promise<void>;
}

export interface ServiceOverrides {
  logger?: Logger;
  runtime?: SessionRuntime;
  auth?: Auth;
  /** Environment for the embedded proxy (defaults to process.env). */
  proxyEnv?: NodeJS.ProcessEnv;
}

export async function startService(config: Config, overrides: ServiceOverrides = {}): Promise<Service> {
  const logger = overrides.logger ?? pino({ level: config.LOG_LEVEL, redact: ['req.headers.authorization', 'req.headers.cookie', '*.credential', '*.token', '*.ticket'] });
  const metrics = createMetrics();
  // loadConfig checked the secret rules: what remains is generating one in local mode.
  const secret = readSharedSecret(config) ?? randomBytes(32).toString('base64url');

  // Auth first: a bad auth setting must stop start-up before anything is opened.
  const auth = overrides.auth ?? createAuth(config, logger.child({ component: 'auth' }));
  const catalog = await loadCourseCatalog(config.COURSES_DIR, logger.child({ component: 'courses' }));
  // Checked before anything is opened: a pool naming an unknown course stops start-up.
  const warmPools = config.WARM_SANDBOXES > 0 ? parsePoolKeys(config.WARM_POOLS, catalog.list().map((c) => c.id), config.RUNTIME === 'kubernetes' ? allowedProfiles(config) : ['default']) : [];
  const store = openProgressStore(config.DB_PATH);
  const progress = createProgressService({ catalog, store, logger: logger.child({ component: 'progress' }) });
  const history = openHistory(config);

  // The API proxy serves only live sessions' credentials and reports upstream outcomes to them; the
  // manager that knows both is made after the runtime, so these calls are bound once it exists.
  let sessions: SessionManager | null = null;
  let apiKeyConfigured = false;
  let localProxy: LocalProxy | null = null;
  const createRuntime = async (): Promise<SessionRuntime> => {
    if (config.RUNTIME === 'local') {
      localProxy = await startLocalProxy({
        env: overrides.proxyEnv ?? process.env,
        secret,
        maxTokensCeiling: config.MAX_TOKENS_CEILING,
        logger,
        registry: metrics.registry,
        liveSessions: { lookup: (id) => sessions?.liveSession(id) },
        onUpstreamOutcome: (id, reason) => sessions?.reportUpstream(id, reason),
      });
      apiKeyConfigured = localProxy.apiKeyConfigured;
      if (!apiKeyConfigured) logger.warn('no API key is configured (ANTHROPIC_API_KEY or ANTHROPIC_API_KEY_FILE): sessions start, but Claude Code cannot answer');
      return createLocalRuntime({
        logger: logger.child({ component: 'local-runtime' }),
        proxySockets: localProxy,
        allowUnsandboxed: config.ALLOW_UNSANDBOXED,
        memoryMb: config.LOCAL_SANDBOX_MEMORY_MB,
        maxProcs: config.LOCAL_SANDBOX_MAX_PROCS,
        cpus: config.LOCAL_SANDBOX_CPUS,
      });
    }
    const { createKubernetesRuntime } = await import('./runtime/kubernetes/runtime.ts');
    return createKubernetesRuntime({ config, logger: logger.child({ component: 'kubernetes-runtime' }) });
  };
  const runtime = overrides.runtime ?? (await createRuntime());

  const command = resolveSessionCommand(config.SESSION_COMMAND, runtime.kind);
  const profiles = runtime.kind === 'kubernetes' ? allowedProfiles(config) : ['default'];
  const sandboxEnv = { CLAUDE_CODE_MAX_OUTPUT_TOKENS: String(config.MAX_TOKENS_CEILING) };
  const issueCredential = (claims: { sessionId: string; userHash: string; expiresAt: Date }) => issueSessionCredential(claims, secret);
  const warmPool = config.WARM_SANDBOXES > 0 ? createWarmPool({
    perPool: config.WARM_SANDBOXES,
    pools: warmPools,
    maxSandboxes: config.MAX_SESSIONS,
    sessionSeconds: config.SESSION_TIMEOUT_SECONDS,
    keptOutputBytes: config.SCROLLBACK_BYTES,
    runtime,
    command,
    programIsClaudeCode: command[2] === CLAUDE_COMMAND_LINE,
    issueCredential,
    sandboxEnv,
    contentDirOf: (courseId) => catalog.contentDir(courseId),
    tutorBriefOf: (courseId) => {
      const course = catalog.get(courseId);
      return course && buildTutorBrief(course);
    },
    activeSessions: () => manager.activeCount,
    logger: logger.child({ component: 'warm-pool' }),
    registry: metrics.registry,
  }) : undefined;
  const manager: SessionManager = new SessionManager({
    runtime,
    logger: logger.child({ component: 'sessions' }),
    metrics,
    limits: { maxSessions: config.MAX_SESSIONS, maxSessionsPerUser: config.MAX_SESSIONS_PER_USER, createsPerMinute: config.SESSION_CREATES_PER_MINUTE },
    timeouts: { sessionSeconds: config.SESSION_TIMEOUT_SECONDS, idleSeconds: config.IDLE_TIMEOUT_SECONDS, graceSeconds: config.RECONNECT_GRACE_SECONDS },
    scrollbackBytes: config.SCROLLBACK_BYTES,
    screen: { restore: config.SCREEN_RESTORE, scrollbackLines: config.SCROLLBACK_LINES, rawBytes: config.SCROLLBACK_BYTES },
    command,
    inputReadyMarker: inputReadyMarker(command),
    hashUser: makeUserHasher(secret),
    issueCredential,
    findCourse: courseRefs(catalog, progress),
    allowedProfiles: profiles,
    reconcileIntervalMs: config.K8S_RECONCILE_SECONDS * 1000,
    sandboxEnv,
    warmPool,
    typeKickOff: command[2] === CLAUDE_COMMAND_LINE,
    findConversation: (userId, sessionId) => history.findConversation(userId, sessionId),
  });
  history.start({ manager, runtime, logger: logger.child({ component: 'history' }) });
  sessions = manager;
  // Kubernetes: the standalone api-proxy learns the live sessions by push (local: in-process, above).
  const pusher = runtime.kind !== 'kubernetes' ? null : pushLiveSessions({
    url: config.API_PROXY_CONTROL_URL,
    secret,
    source: config.K8S_SCOPE,
    active: () => (runtime.unavailableReason?.() ?? null) === null,
    manager,
    logger: logger.child({ component: 'proxy-snapshots' }),
    onApiKeyConfigured: (configured) => (apiKeyConfigured = configured),
  });
  manager.onSessionCreated((session) => watchForMarkers(session, progress, logger.child({ component: 'markers' })));
  // Kubernetes: only the Lease holder of the scope adopts and manages pods (each time it becomes the holder).
  // Its warm pool starts once the adopted sessions hold their slots (a standby instance makes none).
  await runtime.startController?.({ onActive: async () => { await manager.adoptRunningSandboxes(); warmPool?.start(); } });
  history.closeUnfinished(manager.listAll().map((s) => s.id));
  manager.startReaper();
  if (!runtime.startController) warmPool?.start();

  let shuttingDown = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const hosts = createHostAllowlist({ allowedOrigins: config.ALLOWED_ORIGINS, allowedHosts: config.ALLOWED_HOSTS });
  app.use(hostGuard(hosts, { exemptPaths: ['/healthz', '/readyz'] }));
  app.use(securityHeaders({ allowedOrigins: config.ALLOWED_ORIGINS }));
  app.use(createHealthRoutes({
    isShuttingDown: () => shuttingDown,
    checks: [
      { name: 'runtime', check: () => runtime.health() },
      { name: 'store', check: async () => (store.isHealthy() ? { ok: true } : { ok: false, message: 'progress database unavailable' }) },
    ],
  }));
  app.use('/api', express.json({ limit: '16kb' }), identityMiddleware(auth.authenticator));
  app.use(createInfoRoutes({ info: () => ({ apiKeyConfigured, runtime: runtime.kind, profiles, scrollbackLines: config.SCREEN_RESTORE ? config.SCROLLBACK_LINES : null }) }));
  app.use(createSessionRoutes({ manager, wsUrlFor: (session, req) => auth.wsUrlFor(getIdentity(req), session.id) }));
  app.use(createAdminRoutes({ manager }));
  app.use(createHistoryRoutes({ store: history.store, progress: store, manager }));
  app.use(createWatchRoutes({ manager, watchUrlFor: (session, req) => auth.watchUrlFor(getIdentity(req), session.id), logger: logger.child({ component: 'watch' }) }));
  app.use(createCourseRoutes({ catalog }));
  app.use(createProgressRoutes({ catalog, store }));
  app.use(createAnswerRoutes({
    catalog,
    progress,
    findSession: (identity, id) => {
      const session = manager.get(identity, id);
      return session && { courseId: session.courseId, emit: (event) => session.emitEvent(event) };
    },
  }));
  app.use('/api', (_req, _res, next) => next(new ApiError('not_found', 'no such endpoint')));
  app.use(createStaticRoutes());
  app.use(errorHandler(logger));

  const server = createServer(app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  const bridge = attachTerminalBridge({
    server,
    manager,
    logger: logger.child({ component: 'terminal-bridge' }),
    metrics,
    allowedOrigins: config.ALLOWED_ORIGINS,
    hosts,
    maxMessageBytes: config.WS_MAX_MESSAGE_BYTES,
    authenticateUpgrade: (req, sessionId, url, access) => auth.authenticateUpgrade(req, sessionId, url, access),
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  let metricsServer: MetricsServer | null = null;
  try {
    if (config.METRICS_PORT !== undefined) metricsServer = await startMetricsServer({ registry: metrics.registry, host: config.METRICS_HOST, port: config.METRICS_PORT });
  } catch (err) {
    server.close();
    throw err;
  }
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  logger.info({ url, runtime: runtime.kind }, 'web-terminal listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    metricsUrl: metricsServer?.url ?? null,
    manager,
    runtime,
    metrics,
    logger,
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        pusher?.close();
        server.close();
        await metricsServer?.close();
        await manager.shutdown({ stopSandboxes: runtime.kind === 'local' });
        bridge.close();
        await runtime.close();
        await localProxy?.close();
        history.close();
        store.close();
        server.closeAllConnections();
      })();
      return closing;
    },
  };
}
