// The page's one client of the service's API: every request carries the session's bearer
// token from sessionStorage (this tab only: an API token, the bootstrap token, or the ID
// token of a person's sign-in), goes to this origin only, follows no redirect, and turns a
// 401 into Unauthorized so that the page returns to its login. `anonymous` is for the
// sign-in routes, which are called before there is a token.

const TOKEN_KEY = 'ironroot.admin-token';

export class Unauthorized extends Error {
  constructor() { super('the service refused the token'); }
}

export class ApiError extends Error {
  constructor(status, kind, message) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

export function token() { return sessionStorage.getItem(TOKEN_KEY); }
export function setToken(t) { sessionStorage.setItem(TOKEN_KEY, t); }
export function clearToken() { sessionStorage.removeItem(TOKEN_KEY); }

export function authHeaders() {
  return { Authorization: 'Bearer ' + (token() || '') };
}

// GET (or another method with a JSON body) of one `/v1/...` path; the decoded answer.
export function api(path, method = 'GET', body = undefined) {
  return request(path, method, body, authHeaders());
}

// The same, without a credential.
export function anonymous(path, method = 'GET', body = undefined) {
  return request(path, method, body, {});
}

async function request(path, method, body, headers) {
  const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401) throw new Unauthorized();
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
  if (!res.ok) {
    const kind = json && typeof json.kind === 'string' ? json.kind : 'error';
    const message = json && typeof json.message === 'string' ? json.message : res.statusText;
    throw new ApiError(res.status, kind, message);
  }
  return json;
}

// Runs `f` over `items` with at most `limit` at a time (a fleet's reports, without
// opening hundreds of requests at once).
export async function pooled(items, limit, f) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      try { out[i] = await f(items[i]); } catch (e) {
        if (e instanceof Unauthorized) throw e;
        out[i] = null;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
