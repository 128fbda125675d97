// metav1.Status bodies exactly as the apiserver writes them (see kubernetes-facts.md §2.2, §2.3, §1.7).

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; kind?: string };
  code: number;
}

export function failure(code: number, reason: string, message: string, details?: { name?: string; kind?: string }): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export const notFound = (name: string) => failure(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
export const alreadyExists = (name: string) => failure(409, 'AlreadyExists', `pods "${name}" already exists`, { name, kind: 'pods' });
export const unauthorized = () => failure(401, 'Unauthorized', 'Unauthorized');
export const internalError = (message: string) => failure(500, 'InternalError', `Internal error occurred: ${message}`);
export const expired = (rv: string, oldest: string) => failure(410, 'Expired', `too old resource version: ${rv} (${oldest})`);
export const invalid = (message: string) => failure(422, 'Invalid', message);

/** Channel-3 status frames of the exec protocol (no kind/apiVersion, metadata first). */
export function execStatus(exitCode: number): string {
  if (exitCode === 0) return JSON.stringify({ metadata: {}, status: 'Success' });
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: command terminated with exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  });
}
