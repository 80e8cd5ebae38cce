// A decision in words: the answer, each violation with the values its rule
// compared and where the rule is written, and the whole trace.
//
// Trace entries carry `checks` (one per condition evaluated: field, op,
// operand, both values, result) and the rule's `file`/`line` when the
// server reports them; otherwise the `conditions` strings
// (`field op operand → result (field = value, $other = value)`) are read
// into the same shape, and a string that does not parse is shown as is.
import { h } from './dom.js';
import { bytesText, revision } from './format.js';

const OPS = {
  eq: 'is', ne: 'is not', lt: 'is less than', le: 'is at most', gt: 'is more than', ge: 'is at least',
  in: 'is one of', not_in: 'is not one of', contains: 'contains', not_contains: 'does not contain',
  any_in: 'has one of', none_in: 'has none of', all_in: 'has only members of',
  within: 'is within', not_within: 'is not within', local_time: 'is, in local time, within',
};

/** One `conditions` string read into the shape of a `checks` entry. */
export function parseCondition(raw) {
  let s = String(raw);
  let exception;
  const ex = /^\[exception ([^\]]+)\] ([\s\S]*)$/.exec(s);
  if (ex) [, exception, s] = ex;
  const arrow = s.indexOf(' → ');
  if (arrow < 0) return { raw, exception };
  const text = s.slice(0, arrow);
  const rest = s.slice(arrow + 3);
  const rm = /^(true|false) \(([\s\S]*)\)$/.exec(rest);
  if (!rm) return { raw, text, note: rest, exception };
  const words = text.split(' ');
  const [field, op] = words;
  const operand = words.slice(2).join(' ');
  let value = rm[2];
  let operandValue;
  if (value.startsWith(`${field} = `)) value = value.slice(field.length + 3);
  if (operand.startsWith('$')) {
    const key = `, ${operand} = `;
    const i = value.lastIndexOf(key);
    if (i >= 0) {
      operandValue = value.slice(i + key.length);
      value = value.slice(0, i);
    }
  }
  return { raw, text, field, op, operand, value, operand_value: operandValue, result: rm[1] === 'true', exception };
}

/** The checks of a trace entry: its `checks`, else its parsed `conditions`. */
export function checksOf(entry) {
  if (Array.isArray(entry?.checks)) return entry.checks.map((c) => ({ ...c, result: c.result === true || c.result === 'true' }));
  return (entry?.conditions || []).map(parseCondition);
}

/** A compared value for people: sizes in MB, quotes of single words dropped. */
export function valueText(value, field = '') {
  const v = String(value ?? '');
  const b = /^(\d+) bytes?$/.exec(v);
  if (b) return bytesText(Number(b[1]));
  if (/(^|\.)(size|total_size|max_file_size|max_total_size)$/.test(field) && /^\d+$/.test(v)) return bytesText(Number(v));
  const q = /^"([^"\s]*)"$/.exec(v);
  return q ? q[1] : v;
}

function valueEl(value, field) {
  const text = valueText(value, field);
  return h('span', { class: 'val', title: text === String(value) ? null : String(value) }, text);
}

/** What the operator says, in words, given its operand (`present true` → `is present`). */
function opWords(op, operand) {
  const yes = operand !== 'false';
  if (op === 'present') return yes ? 'is present' : 'is absent';
  if (op === 'blank') return yes ? 'is blank (absent, empty or only spaces)' : 'is not blank';
  if (op === 'empty') return yes ? 'is empty' : 'is not empty';
  return OPS[op] || op;
}

/** One check as a sentence: `attachment.size (60 MB) is more than $channel.max_file_size (50 MB) — yes`. */
export function checkItem(c) {
  const ex = c.exception ? h('span', { class: 'badge exception' }, `exception ${c.exception}`) : null;
  if (!c.field) {
    return h('li', { class: 'check' }, ex, h('span', {}, c.note ? `${c.text} — ${c.note}` : c.raw ?? c.text ?? ''));
  }
  const unary = ['present', 'blank', 'empty'].includes(c.op);
  return h('li', { class: c.result ? 'check holds' : 'check', title: c.raw || c.text || null },
    ex,
    h('code', {}, c.field), ' ', c.value !== undefined ? ['(', valueEl(c.value, c.field), ') '] : null,
    opWords(c.op, c.operand), ' ',
    unary ? null : [h('code', {}, c.operand), c.operand_value !== undefined ? [' (', valueEl(c.operand_value, c.operand), ')'] : null],
    ' — ', h('strong', { class: c.result ? 'yes' : 'no' }, c.result ? 'true' : 'false'));
}

/** The attachment a pointer names, as `attachment 2 “setup.exe”`. */
export function pointerText(pointer, request) {
  const m = /^\/message\/attachments\/(\d+)$/.exec(pointer || '');
  if (!m) return pointer || '';
  const a = request?.message?.attachments?.[Number(m[1])];
  return `attachment ${Number(m[1]) + 1}${a?.name ? ` “${a.name}”` : ''}`;
}

function where(entry) {
  return entry?.file ? `${entry.file}${entry.line ? `:${entry.line}` : ''}` : null;
}

/** Allowed or refused, with tenant and revision. */
export function decisionBanner(answer) {
  return h('div', { class: answer.allowed ? 'verdict allowed' : 'verdict refused', role: 'status' },
    h('strong', {}, answer.allowed ? 'Allowed' : 'Refused'),
    ` for tenant ${answer.tenant} by revision `, revision(answer.revision),
    answer.allowed ? '' : ` — ${answer.violations.length} ${answer.violations.length === 1 ? 'reason' : 'reasons'}`);
}

/** Each violation: its code and message, what it is about, why (the checks of its rule), where the rule is. */
export function violationsList(answer, request) {
  if (!answer.violations?.length) return h('p', { class: 'muted' }, 'No rule was violated.');
  const trace = answer.trace || [];
  return h('ol', { class: 'violations' }, answer.violations.map((v) => {
    const entry = trace.find((e) => e.rule === v.rule && (e.pointer || null) === (v.pointer || null) && e.result === 'fired');
    const loc = where(entry);
    const checks = entry ? checksOf(entry) : [];
    return h('li', { class: 'violation', dataset: { code: v.code } },
      h('p', {}, h('code', { class: 'code' }, v.code), ' ', v.message,
        v.pointer ? h('span', { class: 'about' }, ` (${pointerText(v.pointer, request)})`) : null),
      h('p', { class: 'rule-line' }, 'Rule ', h('code', {}, v.rule), loc ? [' at ', h('code', { class: 'loc' }, loc)] : null),
      checks.length ? [h('p', { class: 'because' }, 'Because:'), h('ul', { class: 'checks' }, checks.map(checkItem))] : null);
  }));
}

/** The whole trace: every rule evaluated, in order, with its checks. */
export function traceTable(trace, request) {
  if (!Array.isArray(trace)) return h('p', { class: 'muted' }, 'No trace in this answer.');
  const located = trace.some((e) => e.file);
  const fired = trace.filter((e) => e.result === 'fired').length;
  return h('details', { class: 'trace' },
    h('summary', {}, `Trace: ${trace.length} rule evaluations, ${fired} fired`),
    h('table', {},
      h('caption', { class: 'visually-hidden' }, 'Every rule evaluated'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Rule'), h('th', { scope: 'col' }, 'Result'),
        located ? h('th', { scope: 'col' }, 'Written at') : null, h('th', { scope: 'col' }, 'Conditions'))),
      h('tbody', {}, trace.map((e) => h('tr', { class: `r-${e.result}` },
        h('td', {}, h('code', {}, e.rule), e.pointer ? h('div', { class: 'about' }, pointerText(e.pointer, request)) : null),
        h('td', {}, e.result.replace('_', ' '), e.exempted_by ? [' by ', h('code', {}, e.exempted_by)] : null),
        located ? h('td', {}, where(e) ? h('code', { class: 'loc' }, where(e)) : '—') : null,
        h('td', {}, h('ul', { class: 'checks' }, checksOf(e).map(checkItem))))))));
}
