// Tenants: the list, and for one tenant every effective setting with where
// it is written, its ticket and expiry — now, or at another instant
// (`GET /v1/tenants/{t}?at=`). Overrides that expire within 14 days of that
// instant, or have expired, are marked.
import { h, replace, dl, field } from '../lib/dom.js';
import * as api from '../lib/api.js';
import { expiryMs, instant, isoToLocalInput, localInputToIso, revision, settingValue, plural } from '../lib/format.js';

export const title = 'Tenants';
const SOON_MS = 14 * 86400000;

export async function render(root, ctx) {
  const [name] = ctx.args;
  if (!name) return list(root, ctx);
  return one(root, ctx, name);
}

async function list(root, ctx) {
  root.append(h('h2', {}, 'Tenants'));
  const { json: rules } = await api.get('/v1/rules');
  // Descriptions come with each tenant's view; a long list shows names only.
  const views = rules.tenants.length <= 50
    ? await Promise.all(rules.tenants.map((t) => api.get(api.path('/v1/tenants', t)).then((r) => r.json).catch(() => null)))
    : [];
  root.append(h('ul', { class: 'tenant-list' }, rules.tenants.map((t, i) => {
    const v = views[i];
    const overrides = v ? count(v).overrides : null;
    return h('li', {}, h('a', { href: ctx.link('tenants', [t]) }, t),
      v?.description ? h('span', { class: 'muted' }, ` — ${v.description}`) : null,
      overrides ? h('span', { class: 'badge' }, plural(overrides, 'override')) : null);
  })));
}

/** Every setting of a tenant view as `[path, group, name, setting]`. */
function rows(view) {
  const out = [];
  for (const [n, s] of Object.entries(view.settings || {})) out.push([`settings.${n}`, 'Tenant-wide', n, s]);
  for (const [c, m] of Object.entries(view.channels || {})) for (const [n, s] of Object.entries(m)) out.push([`channels.${c}.${n}`, c, n, s]);
  for (const [r, m] of Object.entries(view.roles || {})) for (const [n, s] of Object.entries(m)) out.push([`roles.${r}.${n}`, r, n, s]);
  return out;
}

function expiry(s, atMs) {
  if (s.expired_override) return 'expired';
  if (!s.expires) return null;
  const end = expiryMs(s.expires);
  return end !== null && end - atMs <= SOON_MS ? 'soon' : null;
}

function count(view) {
  const atMs = Date.parse(view.at);
  let overrides = 0; let soon = 0; let expired = 0;
  for (const [, , , s] of rows(view)) {
    if (s.overridden) overrides += 1;
    const e = expiry(s, atMs);
    if (e === 'soon') soon += 1;
    if (e === 'expired') expired += 1;
  }
  return { overrides, soon, expired };
}

async function one(root, ctx, name) {
  const at = ctx.query.get('at');
  root.append(h('h2', {}, 'Tenant ', h('span', { class: 'tenant-name' }, name)),
    h('p', {}, h('a', { href: ctx.link('tenants') }, '← All tenants')));
  const picker = atPicker(at, (iso) => {
    history.replaceState(null, '', ctx.link('tenants', [name], { at: iso }));
    load(iso);
  });
  const body = h('div', { class: 'tenant-body' });
  root.append(picker, body);
  const load = async (iso) => {
    replace(body, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const q = iso ? `?at=${encodeURIComponent(iso)}` : '';
      const { json } = await api.get(`${api.path('/v1/tenants', name)}${q}`);
      replace(body, draw(json, ctx, Boolean(iso)));
    } catch (err) {
      replace(body, api.errorBox(err));
    }
  };
  await load(at);
}

function atPicker(at, onPick) {
  const input = h('input', { type: 'datetime-local', step: '1', value: at ? isoToLocalInput(at) : '' });
  const f = field('Settings at (your local time)', input, { hint: 'Empty: now. Shows which overrides are in force at that instant.' });
  const form = h('form', { class: 'at-picker', 'aria-label': 'Instant' },
    f.wrap,
    h('button', { type: 'submit' }, 'Show'),
    h('button', { type: 'button', onclick: () => { input.value = ''; f.setError(''); onPick(null); } }, 'Now'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const iso = localInputToIso(input.value);
    if (input.value && !iso) return f.setError('Not a date and time.');
    f.setError('');
    return onPick(iso);
  });
  return form;
}

function draw(view, ctx, picked) {
  const atMs = Date.parse(view.at);
  const c = count(view);
  const groups = new Map();
  for (const row of rows(view)) {
    const [path, group] = row;
    const kind = path.split('.')[0];
    const key = `${kind}:${group}`;
    if (!groups.has(key)) groups.set(key, { kind, group, rows: [] });
    groups.get(key).rows.push(row);
  }
  return [
    dl([
      view.description ? ['Description', view.description] : null,
      ['File', h('code', {}, view.file)],
      ['Revision', revision(view.revision)],
      ['Judged at', h('span', {}, instant(view.at), picked ? ' (picked)' : ' (now)')],
      ['Overrides', h('span', {}, plural(c.overrides, 'override'),
        c.soon ? h('span', { class: 'badge warn' }, `${c.soon} expiring within 14 days`) : null,
        c.expired ? h('span', { class: 'badge bad' }, `${c.expired} expired`) : null)],
    ]),
    overrides(rows(view), view, atMs, ctx),
    h('h3', { class: 'all-h' }, 'Every setting'),
    [...groups.values()].map((g) => section(g, view, atMs, ctx)),
  ];
}

function table(rowsOf, view, atMs, ctx, caption, full) {
  return h('table', { class: 'settings-table' },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('colgroup', {}, ['c-setting', 'c-value', 'c-where', 'c-override', 'c-change'].map((c) => h('col', { class: c }))),
    h('thead', {}, h('tr', {}, ['Setting', 'Value', 'Written at', 'Override'].map((t) => h('th', { scope: 'col' }, t)),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Change')))),
    h('tbody', {}, rowsOf.map(([path, , name, s]) => row(path, full ? path : name, s, view, atMs, ctx))));
}

/** The overrides in force (and those expired) in one table: the usual question. */
function overrides(all, view, atMs, ctx) {
  const list = all.filter(([, , , s]) => s.overridden || s.expired_override);
  return h('section', { class: 'settings overrides', 'aria-labelledby': 'ov-h' },
    h('h3', { id: 'ov-h' }, 'Overrides of this tenant'),
    list.length ? table(list, view, atMs, ctx, 'Overrides of this tenant', true)
      : h('p', { class: 'muted' }, 'None: every value is a default.'));
}

function section(g, view, atMs, ctx) {
  const overridden = g.rows.filter(([, , , s]) => s.overridden || s.expired_override).length;
  const heading = g.kind === 'settings' ? 'Tenant-wide settings' : g.kind === 'channels' ? `Channel ${g.group}` : `Role ${g.group}`;
  const id = `sec-${g.kind}-${g.group}`.replace(/[^a-zA-Z0-9_-]/g, '_');
  return h('section', { class: 'settings', 'aria-labelledby': id, dataset: { group: `${g.kind}.${g.group}` } },
    h('h3', { id }, heading, overridden ? h('span', { class: 'badge' }, plural(overridden, 'override')) : null),
    table(g.rows, view, atMs, ctx, heading, false));
}

function row(path, name, s, view, atMs, ctx) {
  const e = expiry(s, atMs);
  const days = s.expires ? Math.ceil((expiryMs(s.expires) - atMs) / 86400000) : null;
  return h('tr', { class: [s.overridden ? 'overridden' : '', e ? `expiry-${e}` : ''].join(' ').trim() || null, dataset: { setting: path } },
    h('th', { scope: 'row' }, h('code', {}, name), h('div', { class: 'muted type' }, s.type)),
    h('td', { class: 'value' }, settingValue(s.value, s.type)),
    h('td', {}, h('code', { class: 'loc' }, s.provenance), s.overridden ? null : h('div', { class: 'muted' }, 'default')),
    h('td', { class: 'override' },
      s.overridden ? h('span', { class: 'badge good' }, 'overridden') : null,
      s.ticket ? h('span', { class: 'ticket' }, ' ticket ', h('strong', {}, s.ticket)) : null,
      s.expires ? h('div', {}, 'expires ', h('time', { datetime: s.expires }, s.expires),
        e === 'soon' ? h('span', { class: 'badge warn' }, days <= 0 ? 'expires today' : `expires in ${plural(days, 'day')}`) : null) : null,
      s.note ? h('div', { class: 'note' }, s.note) : null,
      s.expired_override ? h('div', { class: 'expired' },
        h('span', { class: 'badge bad' }, 'override expired'), ` on ${s.expired_override.expires}: was `,
        settingValue(s.expired_override.value, s.type), ' at ', h('code', { class: 'loc' }, s.expired_override.provenance),
        s.expired_override.ticket ? [' (ticket ', h('strong', {}, s.expired_override.ticket), ')'] : null) : null),
    h('td', {}, h('a', { href: ctx.link('preview', [view.tenant], { setting: path }), 'aria-label': `Preview a change of ${path}` }, 'Change…')));
}
