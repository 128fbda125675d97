// A fake kube-apiserver that the real @kubernetes/client-node talks to unchanged: real HTTP(S) and
// WebSocket on loopback, with a scriptable fake kubelet. See kubernetes-facts.md for the wire format.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { WebSocketServer } from 'ws';
import type { ExecRecord } from './exec.ts';
import { FakeKubelet } from './kubelet.ts';
import { handleRequest, handleUpgrade, type ApiFault, type ApiVerb, type ServerContext } from './server.ts';
import { PodStore } from './store.ts';
import { EventStore } from './events.ts';
import { LeaseStore } from './leases.ts';
import { makeCertificates } from './tls.ts';

export type { ApiFault, ApiVerb } from './server.ts';
export type { PodBehaviour } from './kubelet.ts';
export type { ExecRecord } from './exec.ts';
export { FakeKubelet } from './kubelet.ts';

export interface FakeKubeApiserverOptions {
  /** Bearer token clients must present (random by default). */
  token?: string;
  /** Serve HTTPS with a generated CA (caPem is returned). */
  https?: boolean;
  /** Namespace of the kubeConfig() context. */
  namespace?: string;
  /** Exec subprotocols the server accepts, in preference of the client's list. Default: v5 and v4. */
  execProtocols?: string[];
  /** Folders put before the host's PATH in every exec, standing for the image's /usr/local/bin (e.g. the real CLI). */
  imagePath?: string[];
}

export interface FakeKubeApiserver {
  url: string;
  token: string;
  /** PEM of the CA that signed the server certificate (https only). */
  caPem: string | null;
  port: number;
  /** A KubeConfig pointing at this server with the token. */
  kubeConfig(): KubeConfig;
  /** Current pods (all namespaces). */
  pods(): V1Pod[];
  /** The Leases (coordination.k8s.io/v1) as stored, and every write to them. */
  leases: LeaseStore;
  /** Events the fake scheduler and kubelet recorded (tests may add their own). */
  events: EventStore;
  kubelet: FakeKubelet;
  api: {
    /** The next `verb` request(s) fail as scripted, in order. */
    failNext(verb: ApiVerb, fault: ApiFault): void;
    /** Ends every open watch stream (abruptly: the socket is destroyed, as when a proxy drops it). */
    dropWatches(): void;
    /** Forgets the event history: a watch resuming from an older resourceVersion gets 410 Expired. */
    compact(): void;
    openWatches(): number;
    /** Whether exec connections answer pings (false: the path looks dead to a heartbeat). */
    answerPings(answer: boolean): void;
    requests: { method: string; path: string; authorization: string | undefined }[];
  };
  /** Every exec connection so far. */
  execs: ExecRecord[];
  close(): Promise<void>;
}

export async function startFakeKubeApiserver(opts: FakeKubeApiserverOptions = {}): Promise<FakeKubeApiserver> {
  const store = new PodStore();
  const leases = new LeaseStore();
  const events = new EventStore();
  const kubelet = new FakeKubelet(store, events);
  const token = opts.token ?? randomBytes(16).toString('hex');
  const ctx: ServerContext = {
    store,
    leases,
    events,
    kubelet,
    token,
    execProtocols: opts.execProtocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
    execs: [],
    faults: new Map(),
    watches: new Set(),
    eventWatches: new Set(),
    hung: new Set(),
    hungUpgrades: new Set(),
    requests: [],
    answerPings: true,
    imagePath: opts.imagePath ?? [],
  };
  const certs = opts.https ? makeCertificates() : null;
  const onRequest = (req: Parameters<typeof handleRequest>[1], res: Parameters<typeof handleRequest>[2]) => {
    handleRequest(ctx, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String(err), reason: 'InternalError', code: 500 }));
    });
  };
  const server: Server = certs
    ? createHttpsServer({ key: certs.keyPem, cert: certs.certPem }, onRequest)
    : createHttpServer(onRequest);
  // The apiserver picks the first subprotocol of the client's list that it supports.
  const wss = new WebSocketServer({
    noServer: true,
    autoPong: false,
    handleProtocols: (offered) => [...offered].find((p) => ctx.execProtocols.includes(p)) ?? false,
  });

  server.on('upgrade', (req, socket, head) => handleUpgrade(ctx, wss, req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `${certs ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    url,
    token,
    caPem: certs?.caPem ?? null,
    port,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [certs
          ? { name: 'fake', server: url, caData: Buffer.from(certs.caPem).toString('base64'), skipTLSVerify: false }
          : { name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'fake-user', token }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', namespace: opts.namespace ?? 'claudecode-sandboxes' }],
        currentContext: 'fake',
      });
      return kc;
    },
    pods: () => store.list(null),
    leases,
    events,
    kubelet,
    api: {
      failNext(verb, fault) {
        const list = ctx.faults.get(verb) ?? [];
        list.push(fault);
        ctx.faults.set(verb, list);
      },
      dropWatches() {
        for (const res of [...ctx.watches]) res.socket?.destroy();
      },
      compact: () => store.compact(),
      openWatches: () => ctx.watches.size,
    answerPings(answer: boolean) { ctx.answerPings = answer; },
      requests: ctx.requests,
    },
    execs: ctx.execs,
    async close() {
      kubelet.close();
      for (const client of wss.clients) client.terminate();
      for (const res of [...ctx.hung, ...ctx.watches, ...ctx.eventWatches]) res.socket?.destroy();
      for (const socket of ctx.hungUpgrades) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
