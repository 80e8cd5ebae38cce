// Why was this refused? A request id (the `x-request-id` of a can-send
// answer) → `GET /v1/decisions/{id}`: the decision, the request as it was
// sent (personal fields masked by the server) and the explanation.
import { h, replace, dl, field } from '../lib/dom.js';
import * as api from '../lib/api.js';
import { instant, revision } from '../lib/format.js';
import { decisionBanner, violationsList, traceTable } from '../lib/explain.js';

export const title = 'Why was this refused?';

export async function render(root, ctx) {
  const [initial = ''] = ctx.args;
  const input = h('input', { type: 'text', name: 'request_id', value: initial, autocomplete: 'off', spellcheck: 'false', class: 'mono', size: 40 });
  const f = field('Request id', input, { hint: 'The x-request-id header of the can-send answer (also in the access log).' });
  const out = h('div', { class: 'decision-body', 'aria-live': 'polite' });
  const form = h('form', { class: 'lookup', 'aria-label': 'Look up a decision' }, f.wrap, h('button', { type: 'submit' }, 'Look up'));
  root.append(h('h2', {}, 'Why was this refused?'),
    h('p', { class: 'muted' }, 'Recent decisions are kept in this server’s memory for a while; an old one may be gone.'), form, out);
  const look = async (id) => {
    if (!id) return f.setError('Paste a request id.');
    f.setError('');
    replace(out, h('p', { class: 'muted' }, 'Looking it up…'));
    try {
      const { json } = await api.get(api.path('/v1/decisions', id));
      replace(out, draw(json, ctx));
    } catch (err) {
      replace(out, err.status === 404 ? notFound(err, id) : api.errorBox(err));
    }
    return undefined;
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = input.value.trim();
    history.replaceState(null, '', ctx.link('decisions', id ? [id] : []));
    look(id);
  });
  if (initial) await look(initial);
}

function notFound(err, id) {
  return h('div', { class: 'error', role: 'alert' },
    h('p', {}, h('strong', {}, 'Not found. '),
      'No decision ', h('code', {}, id), ' on this server: unknown, or evicted since (only recent decisions are kept, per replica).'),
    h('p', { class: 'muted' }, err.problem?.detail || ''));
}

function draw(d, ctx) {
  const serving = ctx.live.revision;
  return [
    decisionBanner(d.answer),
    dl([
      ['Request id', h('code', { class: 'request-id' }, d.request_id)],
      ['Decided', instant(d.decided_at)],
      ['Revision', h('span', {}, revision(d.revision),
        serving && serving !== d.revision ? h('span', { class: 'badge warn' }, 'not the revision serving now') : null)],
      ['Tenant', h('a', { href: ctx.link('tenants', [d.tenant]) }, d.tenant)],
      ['Channel', d.channel],
      ['Personal data', d.masked ? 'masked (shown as ***)' : 'not masked'],
    ]),
    h('section', { 'aria-labelledby': 'why-h' }, h('h3', { id: 'why-h' }, d.answer.allowed ? 'Why it was allowed' : 'Why it was refused'),
      violationsList(d.answer, d.request)),
    h('section', { 'aria-labelledby': 'req-h' }, h('h3', { id: 'req-h' }, 'The request'),
      h('pre', { class: 'json', tabindex: '0', 'aria-label': 'The request as JSON' }, JSON.stringify(d.request, null, 2))),
    h('section', { 'aria-labelledby': 'trace-h' }, h('h3', { id: 'trace-h' }, 'Every rule evaluated'), traceTable(d.answer.trace, d.request)),
  ];
}
