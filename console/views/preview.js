// Preview a change: a tenant, a setting and its new value (with ticket,
// expiry, note) → `POST /v1/tenants/{t}/preview`: the candidate file, the
// diagnostics and rule tests of the rules with it, and what it would change
// for the recent requests. Nothing is applied from here: the file is for
// you to commit (copy or download it).
import { h, replace, field, select, uid, focusFirst } from '../lib/dom.js';
import * as api from '../lib/api.js';
import { bytesText, plural, settingText } from '../lib/format.js';
import { diagnostics, impactView } from '../lib/impact.js';

export const title = 'Preview a change';

export async function render(root, ctx) {
  root.append(h('h2', {}, 'Preview a change'),
    h('p', { class: 'muted' }, 'See the tenant file a change gives, whether the rules still load, and which recent requests it would decide differently. Nothing is applied from this page.'));
  const { json: rules } = await api.get('/v1/rules');
  const [wanted] = ctx.args;
  const tenant = rules.tenants.includes(wanted) ? wanted : rules.tenants[0];
  const p = new Preview(rules.tenants, tenant, ctx);
  root.append(p.el, p.out);
  await p.loadTenant(tenant, ctx.query.get('setting'));
}

/** A value as an admin would write it in the file, from the API's form (`50000000` → `50 MB`). */
function written(value, type) {
  if (value === null || value === undefined) return '';
  if (type === 'size' && typeof value === 'number') return bytesText(value);
  if (type === 'duration' && typeof value === 'number') {
    const parts = [];
    let rest = value;
    for (const [u, n] of [['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000], ['ms', 1]]) {
      if (rest >= n) { parts.push(`${Math.floor(rest / n)}${u}`); rest %= n; }
    }
    return parts.join(' ') || '0s';
  }
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** The typed text as the JSON value of a change, by the setting's type. */
function parsed(text, type) {
  const t = text.trim();
  if (type === 'bool') {
    if (/^(true|yes|on)$/i.test(t)) return true;
    if (/^(false|no|off)$/i.test(t)) return false;
    return t;
  }
  if (type === 'int' && /^-?\d+$/.test(t)) return Number(t);
  if (type?.startsWith('set<') || type?.startsWith('list<')) {
    return t.replace(/^\[|\]$/g, '').split(',').map((x) => x.trim().replace(/^["']|["']$/g, '')).filter(Boolean);
  }
  return t;
}

const PLACEHOLDER = { size: 'e.g. 30 MB', bool: 'true or false', int: 'e.g. 5', duration: 'e.g. 24h', timezone: 'e.g. Europe/Moscow' };

class Preview {
  constructor(tenants, tenant, ctx) {
    this.ctx = ctx;
    this.rows = [];
    this.settings = [];
    this.tenant = field('Tenant', select(tenants, tenant, { name: 'tenant' }));
    this.tenant.input.addEventListener('change', () => this.loadTenant(this.tenant.input.value));
    this.rowsBox = h('div', { class: 'changes' });
    this.problem = h('div', { class: 'form-problem' });
    this.el = h('form', { class: 'preview-form', 'aria-label': 'The change', novalidate: true },
      h('div', { class: 'grid' }, this.tenant.wrap),
      this.rowsBox,
      h('button', { type: 'button', class: 'secondary', onclick: () => this.addRow() }, 'Add another change'),
      this.problem,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Preview')));
    this.el.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.out = h('div', { class: 'preview-out', 'aria-live': 'polite' });
  }

  async loadTenant(tenant, setting) {
    const { json: view } = await api.get(api.path('/v1/tenants', tenant));
    this.view = view;
    this.settings = [];
    for (const [n, s] of Object.entries(view.settings || {})) this.settings.push({ path: `settings.${n}`, group: 'Tenant-wide', s });
    for (const [c, m] of Object.entries(view.channels || {})) for (const [n, s] of Object.entries(m)) this.settings.push({ path: `channels.${c}.${n}`, group: `Channel ${c}`, s });
    for (const [r, m] of Object.entries(view.roles || {})) for (const [n, s] of Object.entries(m)) this.settings.push({ path: `roles.${r}.${n}`, group: `Role ${r}`, s });
    for (const r of this.rows) r.el.remove();
    this.rows = [];
    this.addRow(setting);
    replace(this.out);
    replace(this.problem);
  }

  addRow(initial) {
    const n = this.rows.length + 1;
    const sel = h('select', { name: 'setting' });
    const groups = new Map();
    for (const x of this.settings) {
      if (!groups.has(x.group)) groups.set(x.group, h('optgroup', { label: x.group }));
      groups.get(x.group).append(h('option', { value: x.path }, x.path));
    }
    sel.append(...groups.values());
    const row = {};
    row.setting = field('Setting', sel);
    row.current = h('p', { class: 'current', 'aria-live': 'polite' });
    row.value = field('New value', h('input', { type: 'text', name: 'value', autocomplete: 'off', spellcheck: 'false' }),
      { hint: 'As written in the file: 30 MB, true, jpeg, png, pdf.' });
    const removeId = uid('rm');
    row.remove = h('input', { type: 'checkbox', id: removeId, name: 'remove' });
    row.removeWrap = h('div', { class: 'inline-field' }, row.remove, h('label', { for: removeId }, 'Remove the override (back to the default)'));
    row.remove.addEventListener('change', () => { row.value.input.disabled = row.remove.checked; });
    row.ticket = field('Ticket', h('input', { type: 'text', name: 'ticket', autocomplete: 'off', placeholder: 'e.g. SUP-7' }));
    row.expires = field('Expires (last day in force)', h('input', { type: 'date', name: 'expires' }));
    row.note = field('Note', h('input', { type: 'text', name: 'note', autocomplete: 'off' }), { wide: true });
    const legend = h('legend', {}, `Change ${n}`);
    row.el = h('fieldset', { class: 'change' }, legend,
      h('div', { class: 'grid' }, row.setting.wrap, row.value.wrap), row.current, row.removeWrap,
      h('div', { class: 'grid' }, row.ticket.wrap, row.expires.wrap), row.note.wrap,
      n > 1 ? h('button', { type: 'button', class: 'secondary', onclick: () => this.removeRow(row) }, `Remove change ${n}`) : null);
    const show = () => {
      const x = this.settings.find((y) => y.path === sel.value);
      if (!x) return;
      const s = x.s;
      replace(row.current, 'Now: ', h('strong', {}, settingText(s.value, s.type)), ` (${s.type}) at `, h('code', { class: 'loc' }, s.provenance),
        s.overridden ? [' — overridden', s.ticket ? `, ticket ${s.ticket}` : '', s.expires ? `, expires ${s.expires}` : ''] : ' — the default');
      row.value.input.value = written(s.value, s.type);
      row.value.input.placeholder = PLACEHOLDER[s.type] || (s.type.startsWith('set<') ? 'comma-separated' : '');
      row.type = s.type;
    };
    sel.addEventListener('change', show);
    if (initial && this.settings.some((x) => x.path === initial)) sel.value = initial;
    else {
      // Start on the first setting the tenant overrides, else the first one.
      const first = this.settings.find((x) => x.s.overridden) || this.settings[0];
      if (first) sel.value = first.path;
    }
    show();
    this.rows.push(row);
    this.rowsBox.append(row.el);
    if (n > 1) sel.focus();
  }

  removeRow(row) {
    this.rows = this.rows.filter((r) => r !== row);
    row.el.remove();
  }

  changes() {
    return this.rows.map((r) => {
      const c = { setting: r.setting.input.value, value: r.remove.checked ? null : parsed(r.value.input.value, r.type) };
      for (const k of ['ticket', 'expires', 'note']) if (r[k].input.value.trim()) c[k] = r[k].input.value.trim();
      return c;
    });
  }

  place(err) {
    const unplaced = [];
    for (const e of err.problem?.errors || []) {
      const m = /^\/changes\/(\d+)(?:\/(setting|value|ticket|expires|note))?/.exec(e.pointer || '');
      const row = m && this.rows[Number(m[1])];
      if (row) row[m[2] || 'setting'].setError(e.message);
      else unplaced.push(e);
    }
    replace(this.problem, api.errorBox(err, unplaced));
    this.el.querySelector('[aria-invalid="true"]')?.focus();
  }

  async submit() {
    for (const r of this.rows) for (const k of ['setting', 'value', 'ticket', 'expires', 'note']) r[k].setError('');
    replace(this.problem);
    const tenant = this.tenant.input.value;
    const endpoint = `${api.path('/v1/tenants', tenant)}/preview`;
    replace(this.out, h('p', { class: 'muted' }, 'Previewing…'));
    let res;
    try {
      res = await api.post(endpoint, { changes: this.changes() });
    } catch (err) {
      replace(this.out);
      this.place(err);
      return;
    }
    replace(this.out, result(res.json));
    focusFirst(this.out);
  }
}

function result(p) {
  const v = p.validation || {};
  const name = String(p.file || 'tenant.toml').split('/').pop();
  const copyState = h('span', { class: 'muted', role: 'status' });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(p.text);
      copyState.textContent = ' Copied.';
    } catch {
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      copyState.textContent = ' Selected: press Ctrl+C to copy.';
    }
  };
  const download = h('a', { class: 'button', download: name, href: URL.createObjectURL(new Blob([p.text], { type: 'text/plain' })) }, `Download ${name}`);
  const bad = new Set((v.diagnostics || []).filter((d) => d.file === p.file).map((d) => d.line));
  const pre = h('pre', { class: 'file', tabindex: '0', 'aria-label': `Candidate ${p.file}` },
    String(p.text).split('\n').map((line, i) => h('span', { class: bad.has(i + 1) ? 'line bad' : 'line', dataset: { line: i + 1 } }, line, '\n')));
  const tests = v.tests;
  return [
    h('section', { 'aria-labelledby': 'verdict-h', class: 'result' },
      h('h3', { id: 'verdict-h' }, v.loads ? 'The rules load with this change' : 'The rules would NOT load with this change'),
      h('div', { class: v.loads ? 'verdict allowed' : 'verdict refused', role: 'status' },
        v.loads ? 'Loads.' : 'Does not load: a reload of this file would be rejected and the current revision would keep serving.'),
      v.diagnostics?.length ? diagnostics(v.diagnostics) : null),
    v.impact ? h('section', { 'aria-labelledby': 'impact-h', class: 'result' },
      h('h3', { id: 'impact-h' }, 'Impact on recent requests'), impactView(v.impact)) : null,
    tests ? h('section', { 'aria-labelledby': 'tests-h', class: 'result' },
      h('h3', { id: 'tests-h' }, 'Rule tests'),
      h('p', {}, `${plural(tests.passed, 'test')} passed, ${tests.failed} failed.`),
      tests.failures?.length ? h('ul', { class: 'diagnostics' }, tests.failures.map((f) => h('li', { class: 'diag error' },
        h('code', { class: 'loc' }, `${f.file}:${f.line}:${f.column}`), ' ', h('strong', {}, f.name), ': ', f.message))) : null) : null,
    h('section', { 'aria-labelledby': 'file-h', class: 'result' },
      h('h3', { id: 'file-h' }, 'The file to commit: ', h('code', {}, p.file)),
      h('p', {}, h('button', { type: 'button', onclick: copy }, 'Copy the file'), ' ', download, copyState),
      h('p', { class: 'muted' }, 'Nothing was applied. Commit this file (or save it into the rules directory) to apply it; the service reloads by itself.'),
      pre),
  ];
}
