// Building the page from data without ever parsing data as HTML: every
// text goes in as a text node, so a tenant name or a message text can
// never become markup.

/** An element: `h('a', {href: '#/now', class: 'x', onclick: f}, 'text', child, [more])`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'for') el.htmlFor = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'open') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** Append children: strings and numbers as text, arrays flattened, nulls skipped. */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let ids = 0;
/** A fresh id for label/description pairs. */
export function uid(prefix = 'f') {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * A labelled control with a slot for its error, wired for screen readers:
 * `{wrap, input, error, setError(text)}`. `input` is the control element.
 */
export function field(label, input, { hint, wide } = {}) {
  if (!input.id) input.id = uid('in');
  const error = h('p', { class: 'field-error', id: `${input.id}-error`, hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${input.id}-hint` }, hint) : null;
  const described = [hintEl && hintEl.id, error.id].filter(Boolean).join(' ');
  input.setAttribute('aria-describedby', described);
  const wrap = h('div', { class: wide ? 'field wide' : 'field' }, h('label', { for: input.id }, label), input, hintEl, error);
  const setError = (text) => {
    error.hidden = !text;
    error.textContent = text || '';
    if (text) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };
  return { wrap, input, error, setError, hint: hintEl };
}

/** A `<select>` of `options` (strings, or `[value, label]` pairs). */
export function select(options, value, attrs = {}) {
  const el = h('select', attrs);
  for (const o of options) {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value: v, selected: v === value }, label));
  }
  if (value !== undefined) el.value = value;
  return el;
}

/** A small definition list from `[term, description]` pairs (nulls skipped). */
export function dl(pairs, cls = 'facts') {
  return h('dl', { class: cls }, pairs.filter(Boolean).map(([t, d]) => [h('dt', {}, t), h('dd', {}, d)]));
}

/** Move focus to a view's heading after navigation, for keyboard and screen-reader users. */
export function focusHeading(root) {
  const heading = root.querySelector('h2');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

/** Replace a `<select>`'s options, keeping `value` selected. */
export function setOptions(sel, options, value) {
  sel.replaceChildren(...select(options, value).children);
  if (value !== undefined) sel.value = value;
}

/** Focus the first heading of a result just drawn, so keyboard and screen-reader users land on it. */
export function focusFirst(el) {
  const heading = el.querySelector('h3');
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: false });
}
