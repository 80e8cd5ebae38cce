// Calls to the service's JSON API, from the same origin that served the
// console. The admin token, when one is typed in, is kept in this tab's
// sessionStorage only (gone when the tab closes) and sent as
// `Authorization: Bearer …`.
import { h } from './dom.js';

const TOKEN_KEY = 'cansend.adminToken';
// Where storage is refused, the token lasts until the page reloads.
let memoryToken = '';

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage refused (private mode): memoryToken below still holds it.
  }
  memoryToken = value || '';
}


/** A failed call: its HTTP status (0 when the server did not answer) and problem body. */
export class ApiError extends Error {
  constructor(status, problem, method, path) {
    super(problem?.detail || `${method} ${path} answered ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.method = method;
    this.path = path;
  }
}

/**
 * `method path` with an optional JSON body → `{status, json, requestId}`;
 * a 4xx/5xx or no answer throws an {@link ApiError}.
 */
export async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  const t = token() || memoryToken;
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { title: 'No answer', detail: `the server did not answer (${e.message}); is it running?` }, method, path);
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError(res.status, json || { title: res.statusText, detail: text.slice(0, 500) }, method, path);
  return { status: res.status, json, requestId: res.headers.get('x-request-id') };
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body);

/** What a person should do about an error, in words. */
export function explainError(err) {
  const p = err.problem || {};
  if (err.status === 401) {
    return `The server wants the admin token for ${err.method} ${err.path} (401 ${p.title || 'Unauthorized'}): ${p.detail || ''} ` +
      'Enter it under “Admin token” at the top of the page.';
  }
  if (err.status === 403) {
    return `The server refused ${err.method} ${err.path} (403 ${p.title || 'Forbidden'}): ${p.detail || ''} ` +
      'With no admin token configured on the server, admin endpoints answer only callers on the server’s own machine.';
  }
  if (err.status === 0) return p.detail;
  return `${err.method} ${err.path} answered ${err.status} ${p.title || ''}: ${p.detail || ''}`;
}

/**
 * An error shown where it happened: a `role="alert"` box with what to do,
 * and the problem's field errors not placed next to a field.
 */
export function errorBox(err, unplaced = err.problem?.errors || []) {
  const auth = err.status === 401 || err.status === 403;
  return h('div', { class: auth ? 'error auth' : 'error', role: 'alert' },
    h('p', {}, h('strong', {}, auth ? 'Not allowed. ' : 'Error. '), explainError(err)),
    unplaced.length ? h('ul', {}, unplaced.map((e) => h('li', {}, h('code', {}, e.pointer || '/'), ' ', e.message))) : null);
}

/** `/v1/tenants/a b` with each segment escaped. */
export function path(...segments) {
  return segments.map((s, i) => (i === 0 ? s : encodeURIComponent(s))).join('/');
}
