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

/**
 * Takes a token handed over by an embedding page: `window.CLAUDECODE_TOKEN` (same-origin embedding),
 * or `#token=...` in the address, which browsers never send to a server; it is removed from the address
 * bar at once. The token then goes only into the Authorization header of API requests.
 */
export function adoptEmbeddedToken(win = window) {
  const params = new URLSearchParams(win.location.hash.slice(1));
  const fromFragment = params.get('token');
  if (fromFragment) {
    params.delete('token');
    const rest = params.toString();
    win.history.replaceState(null, '', `${win.location.pathname}${win.location.search}${rest ? `#${rest}` : ''}`);
  }
  const token = fromFragment || win.CLAUDECODE_TOKEN;
  if (typeof token === 'string' && token) auth.headers.authorization = `Bearer ${token}`;
}

/**
 * The one way the page calls the API. `body` is a plain value and is JSON-encoded here, once; a string body
 * is refused (it would be encoded twice). Resolves with the parsed body of a 2xx answer (null for 204);
 * rejects with an ApiRequestError carrying `status`, `code` and the server's plain `message`.
 */
export async function fetchJson(path, { method = 'GET', body } = {}) {
  if (typeof body === 'string') throw new TypeError('fetchJson takes the body as a value, not as JSON text');
  // A token the embedding page renews later (window.CLAUDECODE_TOKEN) is picked up on the next call.
  const renewed = typeof globalThis.CLAUDECODE_TOKEN === 'string' && globalThis.CLAUDECODE_TOKEN ? { authorization: `Bearer ${globalThis.CLAUDECODE_TOKEN}` } : {};
  const headers = { accept: 'application/json', ...auth.headers, ...renewed };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: `http_${res.status}`, message: 'The server could not answer; try again in a moment.' };
    const retryAfter = Number(res.headers.get('retry-after')) || null;
    throw new ApiRequestError(res.status, err.code, err.message, retryAfter);
  }
  return data;
}

/** A non-JSON download (e.g. a conversation as Markdown) with the same credentials as fetchJson. */
export async function fetchBlob(path) {
  const renewed = typeof globalThis.CLAUDECODE_TOKEN === 'string' && globalThis.CLAUDECODE_TOKEN ? { authorization: `Bearer ${globalThis.CLAUDECODE_TOKEN}` } : {};
  const res = await fetch(path, { headers: { ...auth.headers, ...renewed }, credentials: 'same-origin' });
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    const err = data && data.error ? data.error : { code: `http_${res.status}`, message: res.statusText || 'request failed' };
    throw new ApiRequestError(res.status, err.code, err.message, res.headers.get('retry-after'));
  }
  return res.blob();
}
