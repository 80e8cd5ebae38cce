// What a change did (or would do) to the recent requests, and the located
// diagnostics of rule files: shared by the Now and Preview views.
import { h } from './dom.js';
import { instant, plural, revision } from './format.js';
import { pointerText } from './explain.js';

const KINDS = [
  ['allow_to_deny', 'allowed → refused'],
  ['deny_to_allow', 'refused → allowed'],
  ['codes_changed', 'refused for other reasons'],
  ['now_invalid', 'now an invalid request'],
  ['now_valid', 'now a valid request'],
];

/** `tenants/acme.yaml:6:29` and the message, with the hint below. */
export function diagnostics(list) {
  if (!list?.length) return h('p', { class: 'muted' }, 'No diagnostics.');
  return h('ul', { class: 'diagnostics' }, list.map((d) => h('li', { class: `diag ${d.severity}` },
    h('code', { class: 'loc' }, `${d.file}:${d.line}:${d.column}`), ' ',
    h('span', { class: `badge ${d.severity === 'error' ? 'bad' : 'warn'}` }, d.severity), ' ',
    d.message, d.rule ? h('span', { class: 'muted' }, ` [in ${d.rule}]`) : null,
    d.hint ? h('div', { class: 'hint' }, 'Hint: ', d.hint) : null)));
}

/** The counts of an impact in one line: `3 replayed, 2 changed: 2 allowed → refused`. */
export function impactSummary(impact) {
  const parts = KINDS.filter(([k]) => impact[k]).map(([k, label]) => `${impact[k]} ${label}`);
  return `${plural(impact.replayed, 'recent request')} replayed, ${impact.changed} changed${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** An impact report: the counts, the tenant × channel table, the samples. */
export function impactView(impact, { samplesWithheld } = {}) {
  if (!impact) return h('p', { class: 'muted' }, 'No impact report.');
  const groups = impact.by_tenant_channel || [];
  return h('section', { class: 'impact', 'aria-label': 'Impact on recent requests' },
    h('p', { class: impact.changed ? 'impact-line changed' : 'impact-line' },
      h('strong', { class: 'impact-count', dataset: { changed: impact.changed } }, impactSummary(impact))),
    groups.length ? h('table', {},
      h('caption', {}, 'Changes by tenant and channel'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Tenant'), h('th', { scope: 'col' }, 'Channel'),
        h('th', { scope: 'col' }, 'Replayed'), h('th', { scope: 'col' }, 'Changed'),
        KINDS.map(([, label]) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, groups.map((g) => h('tr', {},
        h('td', {}, g.tenant), h('td', {}, g.channel), h('td', { class: 'num' }, g.replayed), h('td', { class: 'num' }, g.changed),
        KINDS.map(([k]) => h('td', { class: 'num' }, g[k])))))) : null,
    impact.groups_omitted ? h('p', { class: 'muted' }, `${impact.groups_omitted} more tenant × channel pairs not listed.`) : null,
    samples(impact.samples || [], samplesWithheld));
}

function side(answer, request) {
  if (!answer) return '—';
  if (answer.errors) return h('span', {}, 'invalid: ', answer.errors.map((e) => `${e.pointer}: ${e.message}`).join('; '));
  if (answer.allowed) return h('span', { class: 'yes' }, 'allowed');
  return h('span', { class: 'no' }, 'refused: ',
    answer.violations.map((v) => `${v.code}${v.pointer ? ` (${pointerText(v.pointer, request)})` : ''}`).join(', '));
}

function samples(list, withheld) {
  if (withheld) return h('p', { class: 'muted' }, 'Sample requests are shown to admins only (set the admin token).');
  if (!list.length) return null;
  return h('details', { class: 'samples' }, h('summary', {}, `${plural(list.length, 'sample request')}`),
    h('ul', {}, list.map((s) => h('li', {},
      h('p', {}, h('strong', {}, s.change.replaceAll('_', ' ')), ` — ${s.tenant} / ${s.channel}`,
        s.decided_at ? [', decided ', instant(s.decided_at)] : null),
      h('p', {}, 'Before: ', side(s.before, s.request), h('br'), 'After: ', side(s.after, s.request)),
      h('details', {}, h('summary', {}, 'The request'), h('pre', { class: 'json' }, JSON.stringify(s.request, null, 2)))))));
}

/** `sha256:a… → sha256:b…`. */
export function revisions(from, to) {
  return h('span', { class: 'revs' }, revision(from), ' → ', revision(to));
}
