// Small client for the REST API: JSON in and out, errors carry the server's code and message.

export class ApiRequestError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Extra headers for every request (an embedding page may set a bearer token here). */
export const auth = { headers: {} };

export async function fetchJson(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json', ...auth.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: `http_${res.status}`, message: res.statusText || 'request failed' };
    throw new ApiRequestError(res.status, err.code, err.message, res.headers.get('retry-after'));
  }
  return data;
}
