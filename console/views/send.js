// Try a send: a can-send request built from a form → the decision, every
// violation explained, the trace (`POST /v1/can-send?explain=true`), and
// what the send dialog would offer the same sender for the same client
// (`POST /v1/send-options`). A 422 is shown next to the field it points at.
import { h, replace, field, select, setOptions, uid, focusFirst } from '../lib/dom.js';
import * as api from '../lib/api.js';
import { bytes, parseSize, plural } from '../lib/format.js';
import { decisionBanner, violationsList, traceTable } from '../lib/explain.js';

export const title = 'Try a send';

export async function render(root, ctx) {
  root.append(h('h2', {}, 'Try a send'),
    h('p', { class: 'muted' }, 'Ask the service what it would answer the chat center for this message. Nothing is sent to anyone.'));
  const { json: rules } = await api.get('/v1/rules');
  const tenant = rules.tenants.includes(ctx.query.get('tenant')) ? ctx.query.get('tenant') : (rules.tenants.includes('default') ? 'default' : rules.tenants[0]);
  const form = new SendForm(rules.tenants, tenant, ctx);
  root.append(form.el, form.out);
  await form.loadTenant(tenant);
}

class SendForm {
  constructor(tenants, tenant, ctx) {
    this.ctx = ctx;
    this.fields = new Map(); // pointer → field
    this.attachments = [];
    const f = (pointer, label, input, opts) => {
      const x = field(label, input, opts);
      this.fields.set(pointer, x);
      return x;
    };
    this.tenant = f('/tenant', 'Tenant', select(tenants, tenant, { name: 'tenant' }));
    this.tenant.input.addEventListener('change', () => this.loadTenant(this.tenant.input.value));
    this.role = f('/sender/role', 'Role', select([], undefined, { name: 'role' }));
    this.action = f('/action', 'Action', select([], undefined, { name: 'action' }));
    this.senderId = f('/sender/id', 'Sender id (optional)', h('input', { type: 'text', name: 'sender_id', autocomplete: 'off' }));
    this.status = f('/client/status', 'Client status', select([['existing', 'existing (has written to us before)'], ['new', 'new']], 'existing', { name: 'status' }));
    this.blocked = f('/client/blocked', 'Blocked', h('input', { type: 'checkbox', name: 'blocked' }));
    this.active = f('/client/active_thread', 'Has an active thread', h('input', { type: 'checkbox', name: 'active_thread' }));
    this.email = f('/client/email', 'Email', h('input', { type: 'email', name: 'email', autocomplete: 'off' }));
    this.phone = f('/client/phone', 'Phone', h('input', { type: 'tel', name: 'phone', autocomplete: 'off' }));
    this.externalId = f('/client/external_id', 'External id', h('input', { type: 'text', name: 'external_id', autocomplete: 'off' }));
    this.channelsBox = h('div', { class: 'checks-row' });
    this.channelsError = h('p', { class: 'field-error', hidden: true, id: uid('err') });
    this.fields.set('/client/channels', { setError: (t) => { this.channelsError.hidden = !t; this.channelsError.textContent = t || ''; } });
    this.channel = f('/channel', 'Channel to send on', select([], undefined, { name: 'channel' }));
    this.text = f('/message/text', 'Text', h('textarea', { name: 'text', rows: 3 }), { wide: true });
    this.tags = f('/thread/tags', 'Thread tags (comma-separated)', h('input', { type: 'text', name: 'tags', autocomplete: 'off' }));
    this.useTemplate = h('input', { type: 'checkbox', id: uid('tpl'), name: 'use_template' });
    this.tplName = f('/message/template/name', 'Template name', h('input', { type: 'text', name: 'template_name' }));
    this.tplHeader = f('/message/template/header', 'Header (optional)', h('input', { type: 'text', name: 'template_header' }));
    this.tplFooter = f('/message/template/footer', 'Footer (optional)', h('input', { type: 'text', name: 'template_footer' }));
    const tplBox = h('div', { class: 'grid', hidden: true }, this.tplName.wrap, this.tplHeader.wrap, this.tplFooter.wrap);
    this.useTemplate.addEventListener('change', () => { tplBox.hidden = !this.useTemplate.checked; });
    this.attachBox = h('div', { class: 'attachments' });
    this.problem = h('div', { class: 'form-problem' });
    this.el = h('form', { class: 'send-form', 'aria-label': 'The request', novalidate: true },
      h('fieldset', {}, h('legend', {}, 'Sender'), h('div', { class: 'grid' }, this.tenant.wrap, this.role.wrap, this.action.wrap, this.senderId.wrap)),
      h('fieldset', {}, h('legend', {}, 'Client'),
        h('div', { class: 'grid' }, this.status.wrap, this.email.wrap, this.phone.wrap, this.externalId.wrap),
        h('div', { class: 'grid' }, inline(this.blocked), inline(this.active)),
        h('fieldset', { class: 'inner', 'aria-describedby': this.channelsError.id }, h('legend', {}, 'Channels the client has written from'), this.channelsBox, this.channelsError)),
      h('fieldset', {}, h('legend', {}, 'Message'),
        h('div', { class: 'grid' }, this.channel.wrap, this.tags.wrap),
        this.text.wrap,
        h('div', { class: 'inline-field' }, this.useTemplate, h('label', { for: this.useTemplate.id }, 'Send a template (WhatsApp, Viber)')),
        tplBox,
        h('fieldset', { class: 'inner' }, h('legend', {}, 'Attachments (name and size, e.g. 12 MB)'), this.attachBox,
          h('button', { type: 'button', class: 'secondary', onclick: () => this.addAttachment() }, 'Add an attachment'))),
      this.problem,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Ask can-send')));
    this.el.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.out = h('div', { class: 'send-out', 'aria-live': 'polite' });
  }

  async loadTenant(tenant) {
    const { json: view } = await api.get(api.path('/v1/tenants', tenant));
    const roles = Object.keys(view.roles || {});
    const actions = [...new Set(Object.values(view.roles || {}).flatMap((r) => r.actions?.value || []))];
    const channels = Object.keys(view.channels || {});
    const keep = (sel, options, fallback) => setOptions(sel, options, options.includes(sel.value) ? sel.value : fallback);
    keep(this.role.input, roles, roles[0]);
    keep(this.action.input, actions, actions.includes('send') ? 'send' : actions[0]);
    keep(this.channel.input, channels, channels[0]);
    const written = new Set([...this.channelsBox.querySelectorAll('input:checked')].map((c) => c.value));
    replace(this.channelsBox, channels.map((c) => {
      const id = uid('ch');
      return h('span', { class: 'inline-field' }, h('input', { type: 'checkbox', id, value: c, checked: written.has(c) }), h('label', { for: id }, c));
    }));
  }

  addAttachment(name = '', size = '') {
    const row = { name: field('File name', h('input', { type: 'text', value: name, autocomplete: 'off' })) };
    row.size = field('Size', h('input', { type: 'text', value: size, autocomplete: 'off', inputmode: 'decimal', placeholder: '12 MB' }),
      { hint: 'MB = 1,000,000 bytes; MiB = 1,048,576' });
    const show = () => {
      const n = parseSize(row.size.input.value);
      row.size.hint.textContent = row.size.input.value.trim() === '' ? 'MB = 1,000,000 bytes; MiB = 1,048,576'
        : n === null ? 'Not a size yet: write e.g. 12 MB' : `= ${new Intl.NumberFormat('en-US').format(n)} bytes`;
    };
    row.size.input.addEventListener('input', show);
    row.el = h('div', { class: 'attachment grid' }, row.name.wrap, row.size.wrap,
      h('button', { type: 'button', class: 'secondary', onclick: () => this.removeAttachment(row) }, 'Remove'));
    this.attachments.push(row);
    this.attachBox.append(row.el);
    show();
    return row;
  }

  removeAttachment(row) {
    this.attachments = this.attachments.filter((r) => r !== row);
    row.el.remove();
  }

  /** The can-send body, or `null` after marking the fields that cannot be sent as they are. */
  body() {
    let ok = true;
    const v = (x) => x.input.value.trim();
    const attachments = this.attachments.map((r) => {
      const size = parseSize(r.size.input.value);
      r.size.setError(size === null ? 'Not a size: write a number with a unit, e.g. 12 MB or 512 KB.' : '');
      r.name.setError(v(r.name) ? '' : 'A file name, e.g. scan.pdf.');
      if (size === null || !v(r.name)) ok = false;
      return { name: v(r.name), size };
    });
    if (!ok) return null;
    const client = {
      status: this.status.input.value,
      blocked: this.blocked.input.checked,
      active_thread: this.active.input.checked,
      channels: [...this.channelsBox.querySelectorAll('input:checked')].map((c) => c.value),
    };
    if (v(this.email)) client.email = v(this.email);
    if (v(this.phone)) client.phone = v(this.phone);
    if (v(this.externalId)) client.external_id = v(this.externalId);
    const sender = { role: this.role.input.value };
    if (v(this.senderId)) sender.id = v(this.senderId);
    const message = { attachments };
    if (this.text.input.value !== '') message.text = this.text.input.value;
    if (this.useTemplate.checked) {
      message.template = { name: v(this.tplName) };
      if (v(this.tplHeader)) message.template.header = v(this.tplHeader);
      if (v(this.tplFooter)) message.template.footer = v(this.tplFooter);
    }
    const body = { tenant: this.tenant.input.value, sender, action: this.action.input.value, client, channel: this.channel.input.value, message };
    const tags = v(this.tags).split(',').map((t) => t.trim()).filter(Boolean);
    if (tags.length) body.thread = { tags };
    return body;
  }

  /** Put each error of a 422 next to its field; the rest in the form's problem box. */
  place(err) {
    const unplaced = [];
    for (const e of err.problem?.errors || []) {
      const target = this.target(e.pointer || '');
      if (target) target.setError(e.message);
      else unplaced.push(e);
    }
    replace(this.problem, api.errorBox(err, unplaced));
    const first = this.el.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  target(pointer) {
    const m = /^\/message\/attachments\/(\d+)(?:\/(name|size))?/.exec(pointer);
    if (m) {
      const row = this.attachments[Number(m[1])];
      return row ? (m[2] === 'size' ? row.size : row.name) : null;
    }
    for (let p = pointer; p; p = p.slice(0, p.lastIndexOf('/'))) {
      if (this.fields.has(p)) return this.fields.get(p);
    }
    return null;
  }

  clearErrors() {
    for (const f of this.fields.values()) f.setError('');
    for (const r of this.attachments) { r.name.setError(''); r.size.setError(''); }
    replace(this.problem);
  }

  async submit() {
    this.clearErrors();
    const body = this.body();
    if (!body) {
      replace(this.problem, h('div', { class: 'error', role: 'alert' }, h('p', {}, 'Some attachments need a name and a size; see the marked fields.')));
      this.el.querySelector('[aria-invalid="true"]')?.focus();
      return;
    }
    replace(this.out, h('p', { class: 'muted' }, 'Asking…'));
    const options = { tenant: body.tenant, sender: body.sender, client: body.client };
    const [decided, offered] = await Promise.allSettled([api.post('/v1/can-send?explain=true', body), api.post('/v1/send-options', options)]);
    if (decided.status === 'rejected') {
      replace(this.out);
      this.place(decided.reason);
      return;
    }
    const { json: answer, requestId } = decided.value;
    replace(this.out,
      h('section', { 'aria-labelledby': 'decision-h', class: 'result' },
        h('h3', { id: 'decision-h' }, 'The answer'),
        decisionBanner(answer),
        requestId ? h('p', { class: 'request-id-line' }, 'Request id ', h('code', { class: 'request-id' }, requestId), ' — ',
          h('a', { href: this.ctx.link('decisions', [requestId]), class: 'lookup-link' }, 'look this decision up later')) : null,
        violationsList(answer, body),
        traceTable(answer.trace, body)),
      h('section', { 'aria-labelledby': 'options-h', class: 'result' },
        h('h3', { id: 'options-h' }, 'What the send dialog would offer'),
        offered.status === 'fulfilled' ? optionsView(offered.value.json, body.channel) : api.errorBox(offered.reason)));
    focusFirst(this.out);
  }
}

function inline(f) {
  return h('div', { class: 'inline-field' }, f.input, f.wrap.querySelector('label'), f.error);
}

/** send-options as the dialog shows it: each channel sendable or why not, its formats and limits. */
export function optionsView(o, chosen) {
  return [
    h('p', {}, `Role ${o.role}: actions `, h('strong', {}, o.actions.join(', ') || '(none)'), '; capabilities ',
      h('strong', {}, o.capabilities.join(', ') || '(none)'), '. Tags ',
      o.tags.required ? ['required, one of ', h('strong', {}, o.tags.available.join(', ') || '(none available)')] : 'not required', '.'),
    h('table', { class: 'options' },
      h('caption', { class: 'visually-hidden' }, 'Channels of the send dialog'),
      h('thead', {}, h('tr', {}, ['Channel', 'Sendable', 'Formats', 'Attachment formats', 'Per file', 'Per message', 'Files'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, o.channels.map((c) => {
        const l = c.attachment_limits || {};
        return h('tr', { class: [c.sendable ? 'sendable' : 'not-sendable', c.channel === chosen ? 'chosen' : ''].join(' '), dataset: { channel: c.channel } },
          h('th', { scope: 'row' }, c.title || c.channel, c.channel === chosen ? h('span', { class: 'badge' }, 'this request') : null),
          h('td', {}, c.sendable ? h('span', { class: 'yes' }, 'yes')
            : [h('span', { class: 'no' }, 'no: '), c.violations.map((v, i) => [i ? '; ' : '', v.message, ' ', h('code', {}, v.code)])]),
          h('td', {}, c.formats.join(', ')),
          h('td', {}, (l.formats || []).join(', ')),
          h('td', { class: 'num' }, l.max_file_size !== undefined ? bytes(l.max_file_size) : '—'),
          h('td', { class: 'num' }, l.max_total_size !== undefined ? bytes(l.max_total_size) : '—'),
          h('td', { class: 'num' }, l.max_count !== undefined ? plural(l.max_count, 'file') : '—'));
      }))),
  ];
}
