// Numbers with units and instants in the reader's time zone. Sizes follow
// the rules: MB, KB, GB are powers of 10 (1 MB = 1,000,000 bytes); MiB,
// KiB, GiB powers of 2.
import { h } from './dom.js';

const UNITS = { b: 1, byte: 1, bytes: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
const grouped = new Intl.NumberFormat('en-US');

/** `50000000` → `50 MB`; `12500000` → `12.5 MB`; `999` → `999 B`. */
export function bytesText(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const [unit, size] = abs >= 1e9 ? ['GB', 1e9] : abs >= 1e6 ? ['MB', 1e6] : abs >= 1e3 ? ['KB', 1e3] : ['B', 1];
  const v = n / size;
  return `${Number.isInteger(v) ? v : Number(v.toFixed(2))} ${unit}`;
}

/** A size as an element: `50 MB`, the exact bytes on hover. */
export function bytes(n) {
  return h('span', { class: 'size', title: `${grouped.format(n)} bytes` }, bytesText(n));
}

/**
 * What a person types (`12 MB`, `12mb`, `1.5 GB`, `512 KiB`, `300`) as a
 * whole number of bytes; a bare number is bytes. `null` when it is not a size.
 */
export function parseSize(text) {
  const m = /^\s*(\d+(?:[.,]\d+)?)\s*([a-z]*)\s*$/i.exec(String(text ?? ''));
  if (!m) return null;
  const unit = m[2].toLowerCase() || 'b';
  if (!(unit in UNITS)) return null;
  return Math.round(Number(m[1].replace(',', '.')) * UNITS[unit]);
}

/** Milliseconds as `24 h`, `30 min`, `7 d`, `1 h 30 min`. */
export function duration(ms) {
  if (typeof ms !== 'number') return String(ms);
  const parts = [];
  let rest = ms;
  for (const [unit, size] of [['d', 86400000], ['h', 3600000], ['min', 60000], ['s', 1000], ['ms', 1]]) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.length ? parts.join(' ') : '0 s';
}

const local = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});

/** An RFC 3339 instant as text in the reader's zone (`2 Dec 2026, 06:50:30 CET`). */
export function instantText(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : local.format(d);
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** The time of day of an instant in the reader's zone (`06:50:30`). */
export function timeText(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : clock.format(d);
}

/** The same instant in UTC, for the tooltip: `2026-12-02 05:50:30.137 UTC`. */
export function utcText(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

/** An instant as a `<time>`: local time shown, UTC on hover. */
export function instant(iso) {
  return h('time', { datetime: iso, title: utcText(iso) }, instantText(iso));
}

/** `sha256:665ad56c…` — enough to tell revisions apart at a glance; the whole on hover. */
export function revision(rev) {
  const text = String(rev ?? '');
  const short = text.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1…');
  return h('code', { class: 'rev', title: text }, short);
}

/** When an override's `expires` ends: a date holds through that day (UTC); an instant is itself. */
export function expiryMs(expires) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(expires ?? ''));
  if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1);
  const t = Date.parse(expires);
  return Number.isNaN(t) ? null : t;
}

/** A setting's value by its type, as text: sizes in MB, durations, lists. */
export function settingText(value, type) {
  if (value === null || value === undefined) return '—';
  if (type === 'size' && typeof value === 'number') return bytesText(value);
  if (type === 'duration' && typeof value === 'number') return duration(value);
  if (type === 'bool') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length ? value.join(', ') : '(none)';
  return String(value);
}

/** A setting's value as an element (a size with its bytes on hover, an instant in local time). */
export function settingValue(value, type) {
  if (type === 'size' && typeof value === 'number') return bytes(value);
  if (type === 'timestamp' && typeof value === 'string') return instant(value);
  return h('span', {}, settingText(value, type));
}

/** `1 request` / `3 requests`. */
export function plural(n, one, many = `${one}s`) {
  return `${grouped.format(n)} ${n === 1 ? one : many}`;
}

/** A `datetime-local` input's value (local time) as RFC 3339 in UTC; `null` if empty or bad. */
export function localInputToIso(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An RFC 3339 instant as a `datetime-local` value in the reader's zone. */
export function isoToLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
