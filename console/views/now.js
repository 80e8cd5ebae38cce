// Now: the revision serving, its files and load time, whether the newest
// files were rejected (with their errors), and the reload history with
// each reload's impact. Redrawn whenever the event stream announces a reload.
import { h, replace, dl } from '../lib/dom.js';
import * as api from '../lib/api.js';
import { instant, revision, plural } from '../lib/format.js';
import { diagnostics, impactView, revisions } from '../lib/impact.js';

export const title = 'Now';

export async function render(root, ctx) {
  const body = h('div', { class: 'now-body' });
  root.append(h('h2', {}, 'Now: the rules being served'), body);
  const load = async () => {
    const [rules, reloads] = await Promise.all([api.get('/v1/rules'), api.get('/v1/rules/reloads')]);
    if (!ctx.stale()) replace(body, draw(rules.json, reloads.json, ctx));
  };
  await load();
  return ctx.live.on((ev) => {
    if (ev.type !== 'revision' || ev.changed) load().catch((err) => replace(body, api.errorBox(err)));
  });
}

function draw(rules, reloads, ctx) {
  return [
    degraded(rules.last_error, rules.revision),
    h('section', { 'aria-labelledby': 'serving-h' },
      h('h3', { id: 'serving-h' }, 'Serving'),
      dl([
        ['Revision', h('span', { class: 'serving-rev', dataset: { revision: rules.revision } }, revision(rules.revision))],
        ['Loaded', instant(rules.loaded_at)],
        ['Source', h('code', {}, rules.source)],
        ['Tenants', h('span', {}, rules.tenants.map((t, i) => [i ? ', ' : '', h('a', { href: ctx.link('tenants', [t]) }, t)]))],
      ]),
      rules.warnings?.length ? [h('h4', {}, 'Warnings of this load'), diagnostics(rules.warnings)] : null),
    h('section', { 'aria-labelledby': 'files-h' },
      h('h3', { id: 'files-h' }, `Files (${rules.files.length})`),
      h('table', { class: 'files' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Path'), h('th', { scope: 'col' }, 'Kind'), h('th', { scope: 'col' }, 'SHA-256'))),
        h('tbody', {}, rules.files.map((f) => h('tr', {},
          h('td', {}, h('code', {}, f.path)), h('td', {}, f.kind),
          h('td', {}, h('code', { title: f.sha256 }, `${f.sha256.slice(0, 12)}…`))))))),
    h('section', { 'aria-labelledby': 'reloads-h' },
      h('h3', { id: 'reloads-h' }, 'Reload history'),
      h('p', { class: 'muted' }, 'Reloads that applied or rejected a revision since the server started, newest first (reloads that found nothing new are not kept).'),
      history(reloads)),
  ];
}

function degraded(lastError, serving) {
  if (!lastError) return h('p', { class: 'ok-line' }, 'The newest rule files are the ones serving.');
  return h('section', { class: 'degraded', role: 'alert', 'aria-labelledby': 'degraded-h' },
    h('h3', { id: 'degraded-h' }, 'Degraded: the newest rule files did not load'),
    h('p', {}, 'Revision ', revision(lastError.revision), ' was rejected ', instant(lastError.at),
      '; revision ', revision(serving), ' keeps serving. Fix these and save again:'),
    diagnostics(lastError.errors));
}

function history(body) {
  const list = body.reloads || [];
  if (!list.length) return h('p', { class: 'muted', id: 'no-reloads' }, 'No reload since the server started.');
  return h('ol', { class: 'reloads' }, list.map((r) => h('li', { class: `reload ${r.outcome}` },
    h('p', {},
      h('span', { class: `badge ${r.outcome === 'rejected' ? 'bad' : r.outcome === 'applied' ? 'good' : ''}` }, r.outcome),
      ' ', instant(r.at), ` by ${trigger(r.trigger)} `,
      r.outcome === 'applied' ? revisions(r.previous, r.revision) : null,
      r.outcome === 'rejected' ? ['rejected ', revision(r.rejected?.revision), '; ', revision(r.serving), ' kept serving'] : null,
      r.outcome === 'unchanged' ? ['back at ', revision(r.revision), r.cleared ? [' (rejection of ', revision(r.cleared), ' cleared)'] : null] : null),
    r.impact ? impactView(r.impact, { samplesWithheld: body.samples_withheld }) : null,
    r.rejected?.errors?.length ? [h('p', {}, plural(r.rejected.errors.length, 'diagnostic'), ':'), diagnostics(r.rejected.errors)] : null)));
}

function trigger(t) {
  return { watch: 'a file change', poll: 'polling', signal: 'SIGHUP', api: 'the reload endpoint' }[t] || t;
}
