// A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics) for testing rendered
// manifests: is a connection from one endpoint to another allowed?
// - A pod is isolated for egress (ingress) when some policy in its namespace selects it and
//   lists Egress (Ingress) in policyTypes; an isolated pod allows only what some selecting
//   policy's rules allow. Policies only add: there is no deny rule.
// - A connection between pods needs both the source's egress and the destination's ingress.
//   Traffic to or from an address outside the cluster is checked on the pod side only.
// - In one peer, namespaceSelector and podSelector are ANDed; separate peers are ORed.
//   A podSelector alone means the policy's own namespace. ipBlock matches addresses only.
// - Ports are the destination pod's ports (after Service translation); named ports resolve
//   against the destination pod's named ports. Protocol defaults to TCP.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
export interface PolicyPeer { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except?: string[] } }
export interface PolicyPort { protocol?: string; port?: number | string; endPort?: number }
export interface PolicyRule { to?: PolicyPeer[]; from?: PolicyPeer[]; ports?: PolicyPort[] }
export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: { podSelector: LabelSelector; policyTypes?: string[]; ingress?: PolicyRule[]; egress?: PolicyRule[] };
}

/** A pod (namespace + labels, optional IP and named ports) or an address outside the cluster. */
export type Endpoint =
  | { kind: 'pod'; namespace: string; labels: Record<string, string>; ip?: string; namedPorts?: Record<string, number> }
  | { kind: 'external'; ip: string };

export interface Connection { from: Endpoint; to: Endpoint; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }

export interface Cluster {
  policies: NetworkPolicy[];
  /** Labels of each namespace; kubernetes.io/metadata.name is added automatically. */
  namespaces: Record<string, Record<string, string>>;
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    switch (e.operator) {
      case 'In': return inValues;
      case 'NotIn': return !inValues;
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: throw new Error(`unknown selector operator ${String(e.operator)}`);
    }
  });
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? '32');
  const size = 2 ** (32 - bits);
  const start = Math.floor(ipToInt(base!) / size) * size;
  const addr = ipToInt(ip);
  return addr >= start && addr < start + size;
}

function namespaceLabels(cluster: Cluster, name: string): Record<string, string> {
  return { ...(cluster.namespaces[name] ?? {}), 'kubernetes.io/metadata.name': name };
}

function peerMatches(cluster: Cluster, peer: PolicyPeer, policyNamespace: string, other: Endpoint): boolean {
  if (peer.ipBlock) {
    const ip = other.ip;
    if (ip === undefined) return false;
    return cidrContains(peer.ipBlock.cidr, ip) && !(peer.ipBlock.except ?? []).some((c) => cidrContains(c, ip));
  }
  if (other.kind !== 'pod') return false;
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, namespaceLabels(cluster, other.namespace))
    : other.namespace === policyNamespace;
  return nsOk && selectorMatches(peer.podSelector, other.labels);
}

function portMatches(ports: PolicyPort[] | undefined, conn: Connection): boolean {
  if (!ports || ports.length === 0) return true;
  const protocol = conn.protocol ?? 'TCP';
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') {
      const named = conn.to.kind === 'pod' ? conn.to.namedPorts?.[p.port] : undefined;
      return named === conn.port;
    }
    return conn.port >= p.port && conn.port <= (p.endPort ?? p.port);
  });
}

function policyTypes(policy: NetworkPolicy): string[] {
  if (policy.spec.policyTypes) return policy.spec.policyTypes;
  return policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Does `pod`'s side allow this connection in `direction`? */
function sideAllows(cluster: Cluster, pod: Endpoint & { kind: 'pod' }, direction: 'Ingress' | 'Egress', conn: Connection): boolean {
  const selecting = cluster.policies.filter((p) =>
    (p.metadata.namespace ?? 'default') === pod.namespace && selectorMatches(p.spec.podSelector, pod.labels) && policyTypes(p).includes(direction));
  if (selecting.length === 0) return true;
  const other = direction === 'Egress' ? conn.to : conn.from;
  return selecting.some((p) => {
    const rules = (direction === 'Egress' ? p.spec.egress : p.spec.ingress) ?? [];
    const ns = p.metadata.namespace ?? 'default';
    return rules.some((rule) => {
      const peers = direction === 'Egress' ? rule.to : rule.from;
      const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(cluster, peer, ns, other));
      return peerOk && portMatches(rule.ports, conn);
    });
  });
}

/** Is the connection allowed by the policies of both ends? */
export function isAllowed(cluster: Cluster, conn: Connection): boolean {
  const egressOk = conn.from.kind === 'pod' ? sideAllows(cluster, conn.from, 'Egress', conn) : true;
  const ingressOk = conn.to.kind === 'pod' ? sideAllows(cluster, conn.to, 'Ingress', conn) : true;
  return egressOk && ingressOk;
}
