// A pure checker for the Pod Security Standards `restricted` profile (which includes
// `baseline`), after the checks in k8s.io/pod-security-admission/policy (check_*.go).
// Input: a pod spec as plain JSON (a manifest's pod template, or the runtime's generated pod;
// @kubernetes/client-node's V1PodSpec has the same shape). Output: one line per violation,
// [] when the spec would be admitted by a namespace enforcing `restricted`.
// Not covered: the AppArmor annotations on pod metadata (only spec fields are seen here).

type Json = Record<string, unknown>;

const asObject = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const allowedVolumeTypes = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const allowedSeccomp = new Set(['RuntimeDefault', 'Localhost']);
const allowedSelinuxTypes = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const safeSysctls = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);

interface NamedContainer { where: string; spec: Json; sc: Json }

function containersOf(pod: Json): NamedContainer[] {
  return (['initContainers', 'containers', 'ephemeralContainers'] as const).flatMap((field) =>
    asArray(pod[field]).map((c, i) => {
      const spec = asObject(c) ?? {};
      const name = typeof spec.name === 'string' ? spec.name : String(i);
      return { where: `${field}[${name}]`, spec, sc: asObject(spec.securityContext) ?? {} };
    }),
  );
}

function checkHostNamespaces(pod: Json): string[] {
  return (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => pod[f] === true).map((f) => `${f} must not be true`);
}

function checkVolumes(pod: Json): string[] {
  return asArray(pod.volumes).flatMap((v) => {
    const volume = asObject(v) ?? {};
    const types = Object.keys(volume).filter((k) => k !== 'name');
    return types.filter((t) => !allowedVolumeTypes.has(t)).map((t) => `volume ${String(volume.name)} uses ${t}, not an allowed volume type`);
  });
}

function checkSeLinux(where: string, sc: Json): string[] {
  const opts = asObject(sc.seLinuxOptions);
  if (!opts) return [];
  const problems: string[] = [];
  if (!allowedSelinuxTypes.has(typeof opts.type === 'string' ? opts.type : '')) problems.push(`${where}: seLinuxOptions.type ${String(opts.type)} is not allowed`);
  if (opts.user) problems.push(`${where}: seLinuxOptions.user must not be set`);
  if (opts.role) problems.push(`${where}: seLinuxOptions.role must not be set`);
  return problems;
}

function checkSeccompAndAppArmor(where: string, sc: Json): string[] {
  const problems: string[] = [];
  if (asObject(sc.seccompProfile)?.type === 'Unconfined') problems.push(`${where}: seccompProfile.type must not be Unconfined`);
  if (asObject(sc.appArmorProfile)?.type === 'Unconfined') problems.push(`${where}: appArmorProfile.type must not be Unconfined`);
  return problems;
}

function checkProbeHosts(c: NamedContainer): string[] {
  const handlers: [string, unknown][] = [
    ['livenessProbe', c.spec.livenessProbe], ['readinessProbe', c.spec.readinessProbe], ['startupProbe', c.spec.startupProbe],
    ['lifecycle.postStart', asObject(c.spec.lifecycle)?.postStart], ['lifecycle.preStop', asObject(c.spec.lifecycle)?.preStop],
  ];
  return handlers.flatMap(([name, handler]) =>
    (['httpGet', 'tcpSocket'] as const)
      .filter((kind) => { const host = asObject(asObject(handler)?.[kind])?.host; return typeof host === 'string' && host !== ''; })
      .map((kind) => `${c.where}: ${name}.${kind}.host must not be set`),
  );
}

function checkContainer(c: NamedContainer): string[] {
  const { where, spec, sc } = c;
  const problems: string[] = [];
  if (sc.privileged === true) problems.push(`${where}: privileged must not be true`);
  if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
  if (sc.procMount !== undefined && sc.procMount !== 'Default') problems.push(`${where}: procMount must be Default`);
  if (asObject(sc.windowsOptions)?.hostProcess === true) problems.push(`${where}: windowsOptions.hostProcess must not be true`);
  const caps = asObject(sc.capabilities) ?? {};
  if (!asArray(caps.drop).includes('ALL')) problems.push(`${where}: capabilities.drop must include ALL`);
  for (const cap of asArray(caps.add)) if (cap !== 'NET_BIND_SERVICE') problems.push(`${where}: capability ${String(cap)} must not be added`);
  for (const p of asArray(spec.ports)) {
    const hostPort = asObject(p)?.hostPort;
    if (hostPort !== undefined && hostPort !== 0) problems.push(`${where}: hostPort must not be set`);
  }
  return [...problems, ...checkSeLinux(where, sc), ...checkSeccompAndAppArmor(where, sc), ...checkProbeHosts(c)];
}

/** runAsNonRoot must be true at pod level or on every container, and false nowhere. */
function checkRunAsNonRoot(pod: Json, psc: Json, containers: NamedContainer[]): string[] {
  if (pod.hostUsers === false) return []; // user-namespaced pods are exempt
  const problems: string[] = [];
  if (psc.runAsNonRoot === false) problems.push('securityContext.runAsNonRoot must not be false');
  for (const c of containers) {
    if (c.sc.runAsNonRoot === false) problems.push(`${c.where}: runAsNonRoot must not be false`);
    else if (psc.runAsNonRoot !== true && c.sc.runAsNonRoot !== true) problems.push(`${c.where}: runAsNonRoot must be true (here or at pod level)`);
  }
  return problems;
}

function checkRunAsUser(psc: Json, containers: NamedContainer[]): string[] {
  const problems = psc.runAsUser === 0 ? ['securityContext.runAsUser must not be 0'] : [];
  return [...problems, ...containers.filter((c) => c.sc.runAsUser === 0).map((c) => `${c.where}: runAsUser must not be 0`)];
}

/** seccompProfile RuntimeDefault or Localhost, at pod level or on every container. */
function checkSeccompRestricted(psc: Json, containers: NamedContainer[]): string[] {
  const podType = asObject(psc.seccompProfile)?.type;
  const podOk = typeof podType === 'string' && allowedSeccomp.has(podType);
  return containers.flatMap((c) => {
    const type = asObject(c.sc.seccompProfile)?.type;
    if (type === undefined) return podOk ? [] : [`${c.where}: seccompProfile.type must be RuntimeDefault or Localhost (here or at pod level)`];
    // Unconfined is reported once, by the baseline check.
    if (type === 'Unconfined' || (typeof type === 'string' && allowedSeccomp.has(type))) return [];
    return [`${c.where}: seccompProfile.type ${String(type)} is not allowed`];
  });
}

function checkSysctls(psc: Json): string[] {
  return asArray(psc.sysctls).flatMap((s) => {
    const name = asObject(s)?.name;
    return typeof name === 'string' && safeSysctls.has(name) ? [] : [`sysctl ${String(name)} is not in the safe set`];
  });
}

/** Violations of Pod Security `restricted` in a pod spec; [] when it complies. */
export function checkRestricted(podSpec: unknown): string[] {
  const pod = asObject(podSpec);
  if (!pod) return ['pod spec must be an object'];
  const psc = asObject(pod.securityContext) ?? {};
  const containers = containersOf(pod);
  if (containers.length === 0) return ['pod has no containers'];
  const podLevel: string[] = [
    ...checkHostNamespaces(pod),
    ...checkVolumes(pod),
    ...checkSeLinux('securityContext', psc),
    ...checkSeccompAndAppArmor('securityContext', psc),
    ...checkSysctls(psc),
  ];
  if (asObject(psc.windowsOptions)?.hostProcess === true) podLevel.push('securityContext.windowsOptions.hostProcess must not be true');
  return [
    ...podLevel,
    ...checkRunAsNonRoot(pod, psc, containers),
    ...checkRunAsUser(psc, containers),
    ...checkSeccompRestricted(psc, containers),
    ...containers.flatMap(checkContainer),
  ];
}
