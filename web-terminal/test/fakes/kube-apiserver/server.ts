// The fake kube-apiserver's HTTP side: pods create/get/list/delete/patch, watch streams, bearer auth,
// metav1.Status errors, scripted API faults, the exec upgrade, Leases, and pod Events.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { V1Lease, V1Pod } from '@kubernetes/client-node';
import { WebSocketServer } from 'ws';
import { runExec, type ExecRecord } from './exec.ts';
import { patchPod } from './patch.ts';
import type { FakeKubelet } from './kubelet.ts';
import { alreadyExists, expired, failure, internalError, invalid, notFound, unauthorized, type StatusBody } from './status.ts';
import { matchesSelector, type PodStore, type StoredEvent } from './store.ts';
import type { EventStore } from './events.ts';
import type { LeaseStore } from './leases.ts';

export type ApiVerb = 'create' | 'get' | 'list' | 'delete' | 'patch' | 'watch' | 'lease' | 'events' | 'exec';
export type ApiFault =
  /** Answers with this status (e.g. a quota refusal: 403 Forbidden with the quota's message). */
  | { kind: 'status'; code: number; reason?: string; message?: string }
  /** Never answers (the request hangs until the client gives up). */
  | { kind: 'hang' }
  /** Stores the object, then never answers: a create that "timed out" yet exists. */
  | { kind: 'hang-after-store' }
  /** Stores the object, then answers with an error status. */
  | { kind: 'status-after-store'; code: number };

export interface ServerContext {
  store: PodStore;
  leases: LeaseStore;
  events: EventStore;
  kubelet: FakeKubelet;
  token: string;
  execProtocols: string[];
  execs: ExecRecord[];
  faults: Map<ApiVerb, ApiFault[]>;
  watches: Set<ServerResponse>;
  /** Open event watches (kept apart: `openWatches()` counts pod watches). */
  eventWatches: Set<ServerResponse>;
  hung: Set<ServerResponse>;
  /** Exec upgrades a `hang` fault keeps open without an answer. */
  hungUpgrades: Set<Duplex>;
  requests: { method: string; path: string; authorization: string | undefined }[];
  /** The apiserver answers every ping; tests can make it go silent (a dead path). */
  answerPings: boolean;
  /** Folders before the host's PATH in every exec (the image's own programs). */
  imagePath: string[];
}

const POD_PATH = /^\/api\/v1\/namespaces\/([a-z0-9-]+)\/pods(?:\/([a-z0-9.-]+))?(?:\/(exec))?$/;
const LEASE_PATH = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([a-z0-9-]+)\/leases(?:\/([a-z0-9.-]+))?$/;
const EVENT_PATH = /^\/api\/v1\/namespaces\/([a-z0-9-]+)\/events$/;
const MAX_BODY = 1024 * 1024;

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
const sendStatus = (res: ServerResponse, status: StatusBody) => sendJson(res, status.code, status);

function authorized(req: IncomingMessage, token: string): boolean {
  return req.headers.authorization === `Bearer ${token}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function takeFault(ctx: ServerContext, verb: ApiVerb): ApiFault | undefined {
  return ctx.faults.get(verb)?.shift();
}

function hang(ctx: ServerContext, res: ServerResponse): void {
  ctx.hung.add(res);
  res.on('close', () => ctx.hung.delete(res));
}

function createPod(ctx: ServerContext, namespace: string, pod: V1Pod): V1Pod | StatusBody {
  const name = pod.metadata?.name;
  if (!name || !pod.spec?.containers?.length) return invalid('Pod is invalid: metadata.name and spec.containers are required');
  if (ctx.store.has(name)) return alreadyExists(name);
  const stored: V1Pod = {
    ...pod,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...pod.metadata, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString() as unknown as Date },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  };
  const created = ctx.store.add(stored);
  ctx.kubelet.podCreated(name);
  return created;
}

function serveWatch(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const selector = url.searchParams.get('labelSelector');
  const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const write = (line: unknown) => res.write(`${JSON.stringify(line)}\n`);
  const unsubscribe = ctx.store.watch(url.searchParams.get('resourceVersion') ?? undefined, (event: StoredEvent) => {
    if (matchesSelector(event.object.metadata?.labels, selector)) write({ type: event.type, object: event.object });
  });
  if (!unsubscribe) {
    write({ type: 'ERROR', object: expired(url.searchParams.get('resourceVersion') ?? '', ctx.store.resourceVersion) });
    res.end();
    return;
  }
  ctx.watches.add(res);
  const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true'
    ? setInterval(() => write({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: ctx.store.resourceVersion } } }), 10_000)
    : null;
  const expiry = setTimeout(() => res.end(), Math.max(1, timeoutSeconds) * 1000);
  res.on('close', () => {
    ctx.watches.delete(res);
    unsubscribe();
    clearTimeout(expiry);
    if (bookmarks) clearInterval(bookmarks);
  });
  req.on('close', () => res.end());
}

export async function handleRequest(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  ctx.requests.push({ method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization });
  if (!authorized(req, ctx.token)) return sendStatus(res, unauthorized());
  const lease = url.pathname.match(LEASE_PATH);
  if (lease) return serveLease(ctx, req, res, lease[1]!, lease[2]);
  const events = url.pathname.match(EVENT_PATH);
  if (events) return serveEvents(ctx, req, res, url, events[1]!);
  const match = url.pathname.match(POD_PATH);
  if (!match || match[3]) return sendStatus(res, failure(404, 'NotFound', 'the server could not find the requested resource'));
  const [, namespace = '', name] = match;
  const method = req.method ?? 'GET';
  const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
  const verb: ApiVerb | null = method === 'POST' && !name ? 'create'
    : method === 'GET' && name ? 'get'
      : method === 'GET' && !name ? (watch ? 'watch' : 'list')
        : method === 'DELETE' && name ? 'delete'
          : method === 'PATCH' && name ? 'patch' : null;
  if (!verb) return sendStatus(res, failure(405, 'MethodNotAllowed', `${method} is not supported`));

  const fault = takeFault(ctx, verb);
  if (fault?.kind === 'hang') return hang(ctx, res);
  if (fault?.kind === 'status') return sendStatus(res, faultStatus(fault));

  switch (verb) {
    case 'create': {
      let pod: V1Pod;
      try {
        pod = JSON.parse(await readBody(req)) as V1Pod;
      } catch {
        return sendStatus(res, failure(400, 'BadRequest', 'the request body is not a Pod'));
      }
      const result = createPod(ctx, namespace, pod);
      if (fault?.kind === 'hang-after-store') return hang(ctx, res);
      if (fault?.kind === 'status-after-store') return sendStatus(res, internalError('etcdserver: leader changed'));
      if ((result as StatusBody).kind === 'Status') return sendStatus(res, result as StatusBody);
      return sendJson(res, 201, result);
    }
    case 'get': {
      const pod = ctx.store.get(name!);
      return pod ? sendJson(res, 200, pod) : sendStatus(res, notFound(name!));
    }
    case 'list':
      return sendJson(res, 200, {
        kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: ctx.store.resourceVersion },
        items: ctx.store.list(url.searchParams.get('labelSelector')),
      });
    case 'watch':
      return serveWatch(ctx, req, res, url);
    case 'patch': {
      const body = await readBody(req); // read first: the pod is patched as it is now, not before the body came
      const pod = ctx.store.get(name!);
      if (!pod) return sendStatus(res, notFound(name!));
      const result = patchPod(pod, req.headers['content-type'], body);
      if ((result as StatusBody).kind === 'Status') return sendStatus(res, result as StatusBody);
      const stored = ctx.store.update(name!, (p) => Object.assign(p, { metadata: { ...(result as V1Pod).metadata, resourceVersion: p.metadata?.resourceVersion }, spec: (result as V1Pod).spec }));
      return stored ? sendJson(res, 200, stored) : sendStatus(res, notFound(name!));
    }
    case 'delete': {
      const pod = ctx.store.get(name!);
      if (!pod) return sendStatus(res, notFound(name!));
      const grace = Number(url.searchParams.get('gracePeriodSeconds') ?? pod.spec?.terminationGracePeriodSeconds ?? 30);
      ctx.kubelet.podDeleted(name!, Number.isFinite(grace) ? grace : 30);
      return sendJson(res, 200, ctx.store.get(name!) ?? pod);
    }
  }
}

function faultStatus(fault: { code: number; reason?: string; message?: string }): StatusBody {
  if (fault.code >= 500 && !fault.message) return internalError('etcdserver: request timed out');
  return failure(fault.code, fault.reason ?? 'Fault', fault.message ?? 'scripted failure');
}

/** Faults scripted for a verb: a hang never answers; a status answers with it. True when handled. */
function applyFault(ctx: ServerContext, verb: ApiVerb, res: ServerResponse): boolean {
  const fault = takeFault(ctx, verb);
  if (fault?.kind === 'hang') hang(ctx, res);
  else if (fault?.kind === 'status') sendStatus(res, faultStatus(fault));
  else return false;
  return true;
}

async function serveLease(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, namespace: string, name: string | undefined): Promise<void> {
  if (applyFault(ctx, 'lease', res)) return;
  const method = req.method ?? 'GET';
  const answer = (result: V1Lease | StatusBody, okCode: number) =>
    ((result as StatusBody).kind === 'Status' ? sendStatus(res, result as StatusBody) : sendJson(res, okCode, result));
  const body = async () => JSON.parse(await readBody(req)) as V1Lease;
  try {
    if (method === 'GET' && name) return answer(ctx.leases.get(namespace, name), 200);
    if (method === 'POST' && !name) return answer(ctx.leases.create(namespace, await body()), 201);
    if (method === 'PUT' && name) return answer(ctx.leases.update(namespace, name, await body()), 200);
  } catch {
    return sendStatus(res, failure(400, 'BadRequest', 'the request body is not a Lease'));
  }
  return sendStatus(res, failure(405, 'MethodNotAllowed', `${method} is not supported`));
}

function serveEvents(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, url: URL, namespace: string): void {
  if (req.method !== 'GET') return sendStatus(res, failure(405, 'MethodNotAllowed', `${req.method} is not supported`));
  if (applyFault(ctx, 'events', res)) return;
  const fieldSelector = url.searchParams.get('fieldSelector');
  if (url.searchParams.get('watch') !== 'true') {
    return sendJson(res, 200, { kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: ctx.events.resourceVersion }, items: ctx.events.list(namespace, fieldSelector) });
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const unsubscribe = ctx.events.watch(namespace, fieldSelector, (type, object) => res.write(`${JSON.stringify({ type, object })}\n`));
  const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
  const expiry = setTimeout(() => res.end(), Math.max(1, timeoutSeconds) * 1000);
  ctx.eventWatches.add(res);
  res.on('close', () => {
    ctx.eventWatches.delete(res);
    unsubscribe();
    clearTimeout(expiry);
  });
  req.on('close', () => res.end());
}

function rejectUpgrade(socket: Duplex, status: StatusBody): void {
  const body = JSON.stringify(status);
  socket.end(`HTTP/1.1 ${status.code} ${status.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function handleUpgrade(ctx: ServerContext, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://fake');
  ctx.requests.push({ method: req.method ?? '', path: url.pathname + url.search, authorization: req.headers.authorization });
  if (!authorized(req, ctx.token)) return rejectUpgrade(socket, unauthorized());
  const match = url.pathname.match(POD_PATH);
  if (!match || match[3] !== 'exec' || !match[2]) return rejectUpgrade(socket, failure(404, 'NotFound', 'the server could not find the requested resource'));
  // An exec fault: a hang accepts the connection and never answers the upgrade (a stuck kubelet or proxy).
  const fault = takeFault(ctx, 'exec');
  if (fault?.kind === 'hang') {
    ctx.hungUpgrades.add(socket);
    socket.on('close', () => ctx.hungUpgrades.delete(socket));
    socket.on('error', () => socket.destroy()); // the client giving up resets the connection
    return;
  }
  if (fault?.kind === 'status') return rejectUpgrade(socket, faultStatus(fault));
  const name = match[2];
  const pod = ctx.store.get(name);
  if (!pod) return rejectUpgrade(socket, notFound(name));
  const container = url.searchParams.get('container');
  const spec = pod.spec?.containers.find((c) => c.name === container) ?? (container ? undefined : pod.spec?.containers[0]);
  if (!spec) return rejectUpgrade(socket, failure(400, 'BadRequest', `container ${container} is not valid for pod ${name}`));
  if (!pod.spec?.nodeName) return rejectUpgrade(socket, failure(400, 'BadRequest', `pod ${name} does not have a host assigned`));
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    return rejectUpgrade(socket, failure(400, 'BadRequest', `cannot exec into a container in a completed pod; current phase is ${phase}`));
  }
  const podDir = ctx.kubelet.podDir(name);
  if (phase !== 'Running' || !podDir) return rejectUpgrade(socket, failure(400, 'BadRequest', 'unable to upgrade connection: container not found ("sandbox")'));

  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('ping', (data) => { if (ctx.answerPings) ws.pong(data); });
    const record: ExecRecord = {
      pod: name,
      argv: url.searchParams.getAll('command'),
      container,
      protocol: ws.protocol,
      authorization: req.headers.authorization,
      stdin: url.searchParams.get('stdin') === 'true',
      tty: url.searchParams.get('tty') === 'true',
      ptyPauses: 0,
      bytesOut: 0,
      resizes: [],
      ended: false,
    };
    ctx.execs.push(record);
    const env = Object.fromEntries((spec.env ?? []).map((e) => [e.name, e.value ?? '']));
    runExec({ ws, req, pod: name, env, podDir, imagePath: ctx.imagePath, record, registerKill: (kill) => ctx.kubelet.registerExec(name, kill) });
  });
}
