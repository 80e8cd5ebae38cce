// The console's shell: the hash router (`#/tenants/demo-limits`, so every
// view is a link), the live revision indicator fed by the event stream,
// and the admin-token field.
import { h, replace, focusHeading } from './lib/dom.js';
import * as api from './lib/api.js';
import { revision, timeText, utcText } from './lib/format.js';
import * as now from './views/now.js';
import * as tenants from './views/tenants.js';
import * as decision from './views/decision.js';
import * as send from './views/send.js';
import * as preview from './views/preview.js';

const VIEWS = { now, tenants, decisions: decision, send, preview };

/** `#/tenants/demo-limits?at=…` → `{name: 'tenants', args: ['demo-limits'], query}`. */
export function parseHash(hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [pathPart, queryPart = ''] = raw.split('?');
  const [name = 'now', ...args] = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { name, args, query: new URLSearchParams(queryPart) };
}

/** The hash of a view: `link('tenants', ['demo-limits'], {at})`. */
export function link(name, args = [], query = {}) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const tail = q.toString() ? `?${q}` : '';
  return `#/${[name, ...args].map(encodeURIComponent).join('/')}${tail}`;
}

// ---- live revision -------------------------------------------------------

const listeners = new Set();
/** The live state every view may read: the revision serving, and whether the newest files were rejected. */
export const live = {
  revision: null,
  degraded: false,
  on(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

function showLive(state, text, extra) {
  const el = document.getElementById('live');
  el.dataset.state = state;
  if (live.revision) el.dataset.revision = live.revision;
  el.dataset.degraded = String(live.degraded);
  replace(el, h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'live-text' }, text, extra || null));
}

function connect(attempt = 0) {
  const es = new EventSource('/v1/rules/events');
  let changedAt = null;
  const label = () => [
    live.revision ? revision(live.revision) : null,
    live.degraded ? h('span', { class: 'badge bad' }, 'newest files rejected') : null,
    changedAt ? h('span', { class: 'changed', title: utcText(changedAt) }, ` changed at ${timeText(changedAt)}`) : null,
  ];
  const handle = (type) => (ev) => {
    let data = {};
    try {
      data = JSON.parse(ev.data);
    } catch {
      data = {};
    }
    const before = live.revision;
    if (type === 'revision') live.revision = data.revision;
    if (type === 'applied') {
      live.revision = data.revision;
      live.degraded = false;
    }
    if (type === 'rejected') live.degraded = true;
    if (type === 'recovered') live.degraded = false;
    const changed = before !== null && before !== live.revision;
    if (changed) changedAt = data.at || new Date().toISOString();
    attempt = 0;
    showLive('live', 'Live: ', label());
    const el = document.getElementById('live');
    if (changed) {
      el.classList.remove('flash');
      void el.offsetWidth; // restart the animation
      el.classList.add('flash');
    }
    for (const fn of listeners) fn({ type, data, changed });
  };
  for (const type of ['revision', 'applied', 'rejected', 'recovered']) es.addEventListener(type, handle(type));
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (an error status): try again ourselves, backing off.
      const wait = Math.min(30000, 1000 * 2 ** attempt);
      showLive('reconnecting', `Event stream lost; reconnecting in ${Math.round(wait / 1000)} s… `, label());
      setTimeout(() => connect(attempt + 1), wait);
    } else {
      showLive('reconnecting', 'Event stream interrupted; reconnecting… ', label());
    }
  };
}

// ---- admin token -------------------------------------------------------

function setupToken() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const state = document.getElementById('token-state');
  const box = document.getElementById('token');
  const show = () => {
    const set = Boolean(api.token());
    state.textContent = set ? 'A token is set for this tab.' : 'No token set.';
    box.querySelector('summary').textContent = set ? 'Admin token (set)' : 'Admin token';
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    api.setToken(input.value.trim());
    input.value = '';
    show();
  });
  document.getElementById('token-forget').addEventListener('click', () => {
    api.setToken('');
    input.value = '';
    show();
  });
  show();
}

// ---- router --------------------------------------------------------------

let cleanup = null;
let renders = 0;

async function route() {
  const { name, args, query } = parseHash(location.hash || '#/now');
  const view = VIEWS[name];
  const main = document.getElementById('main');
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  for (const a of document.querySelectorAll('nav a[data-view]')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  renders += 1;
  const mine = renders;
  if (!view) {
    replace(main, h('h2', {}, 'No such view'), h('p', {}, 'Pick a view above, or go to ', h('a', { href: '#/now' }, 'Now'), '.'));
    document.title = 'No such view — cansend console';
    return;
  }
  document.title = `${view.title} — cansend console`;
  const root = h('div', { class: `view view-${name}` });
  delete main.dataset.ready;
  replace(main, root);
  try {
    cleanup = await view.render(root, { args, query, live, link, stale: () => mine !== renders });
  } catch (err) {
    if (mine === renders) append(root, err);
  }
  // A mark for whoever waits for the view (tests, scripts): it has drawn.
  if (mine === renders) main.dataset.ready = name;
}

function append(root, err) {
  root.append(err instanceof api.ApiError ? api.errorBox(err) : h('div', { class: 'error', role: 'alert' }, String(err?.stack || err)));
}

/** Focus the view itself after a nav link or a hash change, so keyboard users land in it. */
function afterNavigation() {
  route().then(() => focusHeading(document.getElementById('main')));
}

document.getElementById('skip').addEventListener('click', (e) => {
  e.preventDefault();
  document.getElementById('main').focus();
});
window.addEventListener('hashchange', afterNavigation);
setupToken();
connect();
route();
