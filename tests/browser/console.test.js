// End-to-end tests of the console in headless Chromium: the real
// `cansend serve` binary (built beforehand; CANSEND_BIN, default
// target/debug/cansend) on a temporary copy of rules/, driven as a person
// would drive it, with axe-core run on every view.
//
// Screenshots of each view go to docs/console/ (CONSOLE_SCREENSHOTS=DIR
// elsewhere, CONSOLE_SCREENSHOTS=none for none).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.CANSEND_BIN || 'target/debug/cansend');
const SHOTS = process.env.CONSOLE_SCREENSHOTS === 'none' ? null : path.resolve(ROOT, process.env.CONSOLE_SCREENSHOTS || 'docs/console');
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const DEADLINE_MS = 20000;

let server;
let browser;
let rulesDir;
let base;

/** Start the binary on a copy of rules/ and a free port; resolve once it serves. */
function startServer(dir) {
  return new Promise((resolve, reject) => {
    assert.ok(fs.existsSync(BIN), `no binary at ${BIN}: run \`cargo build\` first (or set CANSEND_BIN)`);
    const child = spawn(BIN, ['serve', '--rules', dir, '--listen', '127.0.0.1:0', '--debounce', '50ms', '--poll-interval', '250ms'], {
      env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1', CANSEND_ADMIN_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${DEADLINE_MS} ms:\n${log}`)), DEADLINE_MS);
    const read = (chunk) => {
      log += chunk;
      const m = /serving\s+addr=(?:\x1b\[[0-9;]*m)*(127\.0\.0\.1:\d+)/.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: `http://${m[1]}`, log: () => log });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${log}`));
    });
  });
}

/** Poll `check` until it returns something truthy, or fail after the deadline. */
async function eventually(what, check, ms = DEADLINE_MS) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${last?.stack || last})`);
}

async function api(method, p, body) {
  const res = await fetch(`${base}${p}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body && JSON.stringify(body) });
  return { status: res.status, json: await res.json().catch(() => null) };
}

/** A page at 1366×768 that fails the test on a script error or a CSP violation. */
async function open(hash, { width = 1366, height = 768 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (404|422)/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.problems = problems;
  page.done = async () => {
    assert.deepEqual(problems, [], 'no script error, no CSP violation');
    await context.close();
  };
  await page.goto(`${base}/${hash}`);
  await page.locator('#main[data-ready]').waitFor({ state: 'attached' });
  return page;
}

/** axe-core on the page as it is: no violation of serious or critical impact. */
async function axe(page, where) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  assert.equal(result.testEngine?.name, 'axe-core');
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join('\n  ')}`).join('\n');
  assert.equal(bad.length, 0, `axe on ${where}:\n${text}`);
}

/** Readable on a laptop: nothing wider than the window. */
async function fits(page, where) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: innerWidth }));
  assert.ok(scroll <= width, `${where}: ${scroll}px wide in a ${width}px window`);
}

async function shot(page, name, locator, { fullPage = false } = {}) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  if (locator) await locator.scrollIntoViewIfNeeded();
  // A whole page from the top, so the sticky header is drawn once, where it belongs.
  if (fullPage) await page.evaluate(() => scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

/** The line of `needle` in a rules file (1-based), for provenance checks. */
function lineOf(file, needle) {
  const lines = fs.readFileSync(path.join(rulesDir, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `${needle} in ${file}`);
  return i + 1;
}

const day = 86400000;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

before(async () => {
  rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cansend-console-'));
  fs.cpSync(path.join(ROOT, 'rules'), rulesDir, { recursive: true });
  // A tenant with one override expiring in 5 days and one with a far expiry.
  fs.writeFileSync(path.join(rulesDir, 'tenants/acme.yaml'), [
    'kind: tenant', 'tenant: acme', 'description: Test tenant with expiring overrides.', 'channels:', '  email:',
    `    max_file_size: { value: 40 MB, ticket: SUP-5, expires: ${isoDay(Date.now() + 5 * day)} }`,
    `    max_total_size: { value: 80 MB, ticket: SUP-6, expires: ${isoDay(Date.now() + 400 * day)} }`, '',
  ].join('\n'));
  server = await startServer(rulesDir);
  base = server.base;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (server) {
    server.child.kill('SIGTERM');
    await new Promise((r) => (server.child.exitCode !== null ? r() : server.child.on('exit', r)));
  }
  if (rulesDir) fs.rmSync(rulesDir, { recursive: true, force: true });
});

describe('the console', () => {
  let refusedId;

  test('opens on Now: the serving revision, its files, the live indicator', async () => {
    const page = await open('');
    const { json: rules } = await api('GET', '/v1/rules');
    await page.locator('.serving-rev').waitFor();
    assert.equal(await page.locator('.serving-rev').getAttribute('data-revision'), rules.revision);
    for (const f of rules.files) assert.ok(await page.getByRole('cell', { name: f.path, exact: true }).isVisible(), f.path);
    await eventually('the indicator is live', async () => (await page.locator('#live').getAttribute('data-state')) === 'live');
    assert.equal(await page.locator('#live').getAttribute('data-revision'), rules.revision);
    assert.equal(await page.getByRole('link', { name: 'Now' }).getAttribute('aria-current'), 'page');
    await axe(page, 'Now');
    await page.done();
  });

  test('Tenants: demo-limits shows the raised email limit, where it is written and its ticket', async () => {
    const page = await open('#/tenants');
    await page.getByRole('link', { name: 'demo-limits', exact: true }).click();
    await page.waitForURL(/#\/tenants\/demo-limits$/);
    const email = page.locator('section[data-group="channels.email"] tr[data-setting="channels.email.max_file_size"]');
    await email.waitFor();
    const text = await email.innerText();
    assert.match(text, /50 MB/);
    assert.match(text, new RegExp(`tenants/demo-limits\\.toml:${lineOf('tenants/demo-limits.toml', 'max_file_size')}`));
    assert.match(text, /SUP-1042/);
    assert.match(text, /overridden/);
    // The exact bytes on hover.
    assert.equal(await email.locator('.size').getAttribute('title'), '50,000,000 bytes');
    // A default says where the default is written.
    const wa = await page.locator('tr[data-setting="channels.whatsapp.max_file_size"]').innerText();
    assert.match(wa, new RegExp(`30 MB[\\s\\S]*settings\\.yaml:${lineOf('settings.yaml', 'default: 30 MB')}[\\s\\S]*default`));
    // The overrides table at the top lists the tenant's overrides with their full paths.
    const ov = await page.locator('.overrides').innerText();
    for (const s of ['channels.viber.connected', 'channels.email.max_file_size', 'channels.email.max_total_size']) assert.match(ov, new RegExp(s.replaceAll('.', '\\.')));
    await axe(page, 'Tenants: demo-limits');
    await fits(page, 'Tenants at 1366');
    await shot(page, 'tenants');
    await page.done();
  });

  test('Tenants: overrides expiring within 14 days or expired are marked; the at picker shows another instant', async () => {
    const page = await open('#/tenants/acme');
    const soon = page.locator('section[data-group="channels.email"] tr[data-setting="channels.email.max_file_size"]');
    await soon.waitFor();
    assert.match(await soon.getAttribute('class'), /expiry-soon/);
    assert.match(await soon.innerText(), /expires in [4-6] days/);
    const far = page.locator('section[data-group="channels.email"] tr[data-setting="channels.email.max_total_size"]');
    assert.doesNotMatch((await far.getAttribute('class')) || '', /expiry/);
    // Ten days on, the first has expired and the default is back.
    const later = new Date(Date.now() + 10 * day);
    const pad = (n) => String(n).padStart(2, '0');
    const local = `${later.getFullYear()}-${pad(later.getMonth() + 1)}-${pad(later.getDate())}T12:00:00`;
    await page.getByLabel('Settings at (your local time)').fill(local);
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.waitForURL(/#\/tenants\/acme\?at=/);
    await eventually('the expired override is shown', async () => /expiry-expired/.test((await soon.getAttribute('class')) || ''));
    const text = await soon.innerText();
    assert.match(text, /30 MB/);
    assert.match(text, /override expired/);
    assert.match(text, /40 MB/, 'the value that expired');
    assert.match(await page.locator('.facts').innerText(), /\(picked\)/);
    // The link is the view: opening it again shows the same instant.
    const url = page.url();
    const again = await open(url.slice(url.indexOf('#')));
    await again.locator('tr.expiry-expired[data-setting="channels.email.max_file_size"]').first().waitFor();
    await again.done();
    await axe(page, 'Tenants: acme at another instant');
    await page.done();
  });

  test('Try a send: a refused send, explained, with its request id and the send dialog', async () => {
    const page = await open('#/send');
    await page.getByLabel('Tenant', { exact: true }).selectOption('demo-limits');
    await eventually('demo-limits channels', async () => (await page.getByLabel('Channel to send on').locator('option').count()) > 0);
    await page.getByLabel('Role', { exact: true }).selectOption('agent');
    await page.getByRole('checkbox', { name: 'email', exact: true }).check();
    await page.getByLabel('Channel to send on').selectOption('email');
    await page.getByLabel('Text', { exact: true }).fill('Your scan');
    await page.getByRole('button', { name: 'Add an attachment' }).click();
    await page.getByLabel('File name').fill('scan.pdf');
    await page.getByLabel('Size').fill('60 MB');
    assert.match(await page.locator('.attachment .hint').innerText(), /60,000,000 bytes/);
    await page.getByRole('button', { name: 'Ask can-send' }).click();
    const verdict = page.locator('.send-out .verdict');
    await verdict.waitFor();
    assert.match(await verdict.innerText(), /Refused/);
    const v = page.locator('.violation[data-code="attachment_too_large"]');
    const vt = await v.innerText();
    assert.match(vt, /attachment 1 “scan\.pdf”/);
    assert.match(vt, /60 MB/, 'the value compared');
    assert.match(vt, /50 MB/, 'the limit it was compared with');
    assert.match(vt, /attachment-size/);
    // The rule's file:line once the trace carries it.
    const { json: answer } = await api('POST', '/v1/can-send?explain=true', {
      tenant: 'demo-limits', sender: { role: 'agent' }, client: { status: 'existing', channels: ['email'] }, channel: 'email',
      message: { text: 'x', attachments: [{ name: 'scan.pdf', size: 60000000 }] },
    });
    const entry = answer.trace.find((e) => e.rule === 'attachment-size' && e.result === 'fired');
    if (entry.file) assert.match(vt, new RegExp(`${entry.file}:${entry.line}`));
    refusedId = await page.locator('.send-out .request-id').innerText();
    assert.match(refusedId, /^[0-9a-f-]{36}$/);
    assert.equal(await page.locator('.lookup-link').getAttribute('href'), `#/decisions/${refusedId}`);
    // The send dialog: email sendable, limits in MB; viber not connected.
    const emailRow = await page.locator('table.options tr[data-channel="email"]').innerText();
    assert.match(emailRow, /yes[\s\S]*50 MB[\s\S]*100 MB/);
    assert.match(await page.locator('table.options tr[data-channel="viber"]').innerText(), /not connected/);
    await page.locator('.trace summary').click();
    assert.ok((await page.locator('.trace tbody tr').count()) >= 10, 'every rule evaluated');
    await axe(page, 'Try a send: refused');
    await fits(page, 'Try a send at 1366');
    await shot(page, 'send', page.locator('.send-out .verdict'));
    await page.done();
  });

  test('Try a send: a 422 is shown next to the field it points at; a size without a unit that means nothing is caught first', async () => {
    const page = await open('#/send');
    await page.getByRole('button', { name: 'Add an attachment' }).click();
    await page.getByLabel('File name').fill('a.pdf');
    await page.getByLabel('Size').fill('12 parsecs');
    await page.getByRole('button', { name: 'Ask can-send' }).click();
    const size = page.getByLabel('Size');
    await eventually('the size is marked', async () => (await size.getAttribute('aria-invalid')) === 'true');
    assert.match(await page.locator(`#${await size.getAttribute('id')}-error`).innerText(), /12 MB/);
    await page.getByLabel('Size').fill('1 MB');
    // A template without a name: the server answers 422 at /message/template/name.
    await page.getByLabel('Send a template (WhatsApp, Viber)').check();
    await page.getByRole('button', { name: 'Ask can-send' }).click();
    const name = page.getByLabel('Template name');
    await eventually('the template name is marked', async () => (await name.getAttribute('aria-invalid')) === 'true');
    const err = await page.locator(`#${await name.getAttribute('id')}-error`).innerText();
    const { json: problem } = await api('POST', '/v1/can-send', {
      sender: { role: 'agent' }, client: { status: 'existing' }, channel: 'whatsapp', message: { template: { name: '' } },
    });
    const expected = problem.errors.find((e) => e.pointer === '/message/template/name');
    assert.ok(expected, JSON.stringify(problem));
    assert.equal(err, expected.message, 'the server\'s message, next to the field');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'template_name', 'focus moves to the field');
    await axe(page, 'Try a send: 422');
    await page.done();
  });

  test('Why was this refused? a refused request looked up by its id', async () => {
    assert.ok(refusedId, 'the send test ran first');
    const page = await open(`#/decisions/${refusedId}`);
    const verdict = page.locator('.decision-body .verdict');
    await verdict.waitFor();
    assert.match(await verdict.innerText(), /Refused/);
    assert.equal(await page.locator('.decision-body .request-id').innerText(), refusedId);
    const vt = await page.locator('.violation[data-code="attachment_too_large"]').innerText();
    assert.match(vt, /60 MB/);
    assert.match(vt, /50 MB/);
    assert.match(await page.locator('pre.json').innerText(), /scan\.pdf|\*\*\*/);
    await axe(page, 'Why was this refused?');
    await shot(page, 'decisions');
    await page.done();
  });

  test('Why was this refused? an unknown id says so, where the answer would be', async () => {
    const page = await open('#/decisions');
    await page.getByLabel('Request id').fill('00000000-0000-4000-8000-000000000000');
    await page.getByRole('button', { name: 'Look up' }).click();
    const alert = page.locator('.decision-body [role="alert"]');
    await alert.waitFor();
    const text = await alert.innerText();
    assert.match(text, /Not found/);
    assert.match(text, /unknown, or evicted/);
    assert.match(page.url(), /#\/decisions\/00000000-0000-4000-8000-000000000000$/, 'the view is a link');
    await axe(page, 'Why was this refused? not found');
    await page.done();
  });

  test('Preview a change: lowering a limit shows the candidate file and the impact on recent requests', async () => {
    for (let i = 0; i < 3; i += 1) {
      const r = await api('POST', '/v1/can-send', {
        tenant: 'demo-limits', sender: { role: 'agent' }, client: { status: 'existing', channels: ['email'], email: 'anna@example.com' },
        channel: 'email', message: { text: 'Your scan', attachments: [{ name: `scan-${i}.pdf`, size: 40000000 }] },
      });
      assert.equal(r.json.allowed, true, JSON.stringify(r.json));
    }
    const page = await open('#/preview/demo-limits?setting=channels.email.max_file_size');
    const value = page.getByLabel('New value');
    await eventually('the current value is filled in', async () => (await value.inputValue()) === '50 MB');
    await value.fill('30 MB');
    await page.getByLabel('Ticket').fill('SUP-7');
    await page.getByLabel('Expires (last day in force)').fill(isoDay(Date.now() + 60 * day));
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    const count = page.locator('.preview-out .impact-count');
    await count.waitFor();
    assert.ok(Number(await count.getAttribute('data-changed')) >= 3, await count.innerText());
    assert.match(await count.innerText(), /allowed → refused/);
    assert.match(await page.locator('pre.file').innerText(), /30 MB[\s\S]*SUP-7/);
    assert.match(await page.locator('.preview-out a[download]').getAttribute('download'), /demo-limits\.toml$/);
    // The file as it is on disk with the one line changed: its comments kept.
    const onDisk = fs.readFileSync(path.join(rulesDir, 'tenants/demo-limits.toml'), 'utf8');
    const candidate = await page.locator('pre.file').innerText();
    assert.match(candidate, /^#:schema/);
    assert.match(candidate, /max_file_size = \{ value = "30 MB", ticket = "SUP-7", expires = "\d{4}-\d{2}-\d{2}" \}/);
    assert.equal(candidate.split('\n').filter(Boolean).length, onDisk.split('\n').filter(Boolean).length, 'one line replaced, none added');
    await page.getByRole('button', { name: 'Copy the file' }).click();
    await eventually('copied or selected', async () => /Copied|Selected/.test(await page.locator('.preview-out [role="status"].muted').innerText()));
    assert.equal(onDisk.includes('30 MB'), false, 'nothing is applied');
    await axe(page, 'Preview a change');
    await shot(page, 'preview', null, { fullPage: true });
    await page.done();
  });

  test('a rule file changed on disk: the indicator and Now follow, a broken file shows as degraded with file:line:col', async () => {
    const page = await open('#/now');
    await eventually('live', async () => (await page.locator('#live').getAttribute('data-state')) === 'live');
    const before = await page.locator('#live').getAttribute('data-revision');
    const file = path.join(rulesDir, 'tenants/default.yaml');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, `${original}channels:\n  vk: { connected: false }\n`);
    const after = await eventually('the indicator shows the new revision', async () => {
      const rev = await page.locator('#live').getAttribute('data-revision');
      return rev !== before && rev;
    });
    const { json: rules } = await api('GET', '/v1/rules');
    assert.equal(after, rules.revision);
    await eventually('Now shows it', async () => (await page.locator('.serving-rev').getAttribute('data-revision')) === after);
    await eventually('the history has the reload', async () => (await page.locator('.reload.applied').count()) >= 1);
    assert.match(await page.locator('.reload.applied').first().innerText(), /a file change|polling/);

    // Broken: the indicator says so, Now lists the error at file:line:col.
    fs.writeFileSync(file, `${original}settings:\n  tags_required: maybe\n`);
    await eventually('degraded', async () => (await page.locator('#live').getAttribute('data-degraded')) === 'true');
    const degraded = page.locator('.degraded');
    await degraded.waitFor();
    assert.match(await degraded.innerText(), /tenants\/default\.yaml:\d+:\d+/);
    assert.equal(await page.locator('#live').getAttribute('data-revision'), after, 'the serving revision did not change');
    await axe(page, 'Now: degraded');
    await shot(page, 'now');

    // Fixed: back to normal.
    fs.writeFileSync(file, original);
    await eventually('recovered', async () => (await page.locator('#live').getAttribute('data-degraded')) === 'false'
      && (await page.locator('#live').getAttribute('data-revision')) !== after);
    await eventually('Now has no degraded section', async () => (await page.locator('.degraded').count()) === 0);
    await page.done();
  });

  test('every view: keyboard reachable, no serious or critical axe violation, fits 1366×768 and 1920×1080', async () => {
    for (const [width, height] of [[1366, 768], [1920, 1080]]) {
      const page = await open('#/now', { width, height });
      // The skip link, then the nav, by keyboard alone.
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'skip');
      for (const [name, hash] of [['Tenants', '#/tenants'], ['Why was this refused?', '#/decisions'], ['Try a send', '#/send'], ['Preview a change', '#/preview'], ['Now', '#/now']]) {
        await page.getByRole('link', { name, exact: true }).focus();
        await page.keyboard.press('Enter');
        await page.waitForURL((u) => u.hash.startsWith(hash));
        await page.locator(`#main[data-ready="${hash.slice(2)}"]`).waitFor({ state: 'attached' });
        assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H2', `${name}: focus moves to the view`);
        await axe(page, `${name} at ${width}×${height}`);
        await fits(page, `${name} at ${width}×${height}`);
      }
      // The token field, by keyboard: kept in sessionStorage only.
      await page.locator('#token summary').focus();
      await page.keyboard.press('Enter');
      await page.getByLabel('Token', { exact: true }).fill('s3cret');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => sessionStorage.getItem('cansend.adminToken')), 's3cret');
      assert.equal(await page.evaluate(() => localStorage.length), 0);
      assert.match(await page.locator('#token-state').innerText(), /token is set/);
      await axe(page, `token at ${width}×${height}`);
      await page.done();
    }
  });
});

describe('the admin token', () => {
  let guarded;
  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cansend-console-token-'));
    fs.cpSync(path.join(ROOT, 'rules'), dir, { recursive: true });
    guarded = await new Promise((resolve, reject) => {
      const child = spawn(BIN, ['serve', '--rules', dir, '--listen', '127.0.0.1:0', '--no-watch'], {
        env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1', CANSEND_ADMIN_TOKEN: 'right-token' }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      const timer = setTimeout(() => reject(new Error(log)), DEADLINE_MS);
      const read = (c) => {
        log += c;
        const m = /serving\s+addr=(127\.0\.0\.1:\d+)/.exec(log);
        if (m) { clearTimeout(timer); resolve({ child, dir, base: `http://${m[1]}` }); }
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
    });
  });
  after(async () => {
    guarded?.child.kill('SIGTERM');
    if (guarded) {
      await new Promise((r) => (guarded.child.exitCode !== null ? r() : guarded.child.on('exit', r)));
      fs.rmSync(guarded.dir, { recursive: true, force: true });
    }
  });

  test('a 401 says the token is needed and where to enter it; with the token the call goes through', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${guarded.base}/#/now`);
    await page.locator('#main[data-ready]').waitFor({ state: 'attached' });
    // An admin call as the views make it (validate: admin, served today).
    const attempt = () => page.evaluate(async () => {
      const { call, errorBox } = await import('/console/lib/api.js');
      try {
        return { status: (await call('POST', '/v1/rules/validate', { files: {} })).status };
      } catch (e) {
        document.getElementById('main').append(errorBox(e));
        return { status: e.status, text: document.querySelector('.error.auth')?.innerText };
      }
    });
    const refused = await attempt();
    assert.equal(refused.status, 401);
    assert.match(refused.text, /Not allowed[\s\S]*401[\s\S]*Admin token/);
    await axe(page, 'a 401 shown');
    // Samples of the reload history are withheld without the token.
    const samplesWithheld = () => page.evaluate(async () => {
      const { call } = await import('/console/lib/api.js');
      return (await call('GET', '/v1/rules/reloads')).json.samples_withheld;
    });
    assert.equal(await samplesWithheld(), true);
    await page.locator('#token summary').click();
    await page.getByLabel('Token', { exact: true }).fill('right-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    assert.equal((await attempt()).status, 200, 'the console sends the token');
    assert.equal(await samplesWithheld(), false);
    await context.close();
  });
});
