// Starts what the browser tests need: a throwaway database (inside the
// pg_virtualenv cluster that ctest runs in), the admin console and the backend
// on 127.0.0.1:0, and headless Chromium through playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const here = dirname(fileURLToPath(import.meta.url));
export const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });

const adminBin = process.env.ATTENDANCE_ADMIN_BIN;
const backendBin = process.env.ATTENDANCE_BACKEND_BIN;
if (!adminBin || !backendBin) {
  throw new Error('ATTENDANCE_ADMIN_BIN and ATTENDANCE_BACKEND_BIN must name the built binaries (ctest sets them)');
}

// The browser tests' dated events run from yesterday 18:00 UTC to tomorrow 23:00 UTC, whatever day the
// tests run: registration is still open (it closes at the event's end, ADR 0074) and check-ins at
// yesterday's times are past, as ingest requires (no check-in from the future).
const utcDay = (offsetDays) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
export const EVENT_DAY = utcDay(-1);
export const EVENT_END_DAY = utcDay(1);

export const ADMIN_EMAIL = 'organizer@example.org';
export const ADMIN_PASSWORD = 'browser-test-password';

// Resolves with the first stdout line matching `re`; rejects on exit or after `ms`.
function waitForLine(child, re, ms, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms`)), ms);
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      const m = buf.match(re);
      if (m) { clearTimeout(timer); resolve(m); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${code}`)); });
  });
}

// `tag` names the server logs in artifacts/ (one stack per test file).
// `backendArgs` are added to `attendance-backend serve`.
export async function startStack({ tag = 'report', backendArgs = [] } = {}) {
  const db = `admin_browser_${process.pid}_${Date.now()}`;
  execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q', '-d', 'postgres', '-c', `CREATE DATABASE "${db}"`]);
  const env = { ...process.env, PGDATABASE: db };
  delete env.DATABASE_URL;
  execFileSync(backendBin, ['migrate'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const dir = mkdtempSync(join(tmpdir(), 'admin-browser-'));
  const pwFile = join(dir, 'password');
  writeFileSync(pwFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
  execFileSync(adminBin, ['create-admin', '--email', ADMIN_EMAIL, '--password-file', pwFile], { env, stdio: ['ignore', 'ignore', 'inherit'] });

  const children = [];
  // Server logs go to artifacts/ for post-mortems.
  const adminLog = openSync(join(artifacts, `admin-serve-${tag}.log`), 'w');
  const backendLog = openSync(join(artifacts, `backend-serve-${tag}.log`), 'w');
  const admin = spawn(adminBin, ['serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', adminLog] });
  children.push(admin);
  const backend = spawn(backendBin, ['serve', '--listen', '127.0.0.1:0', '--insecure-fast-password-hashing', '--no-access-log', ...backendArgs],
    { env, stdio: ['ignore', 'pipe', backendLog] });
  children.push(backend);
  let stopping = false;
  for (const [name, child] of [['attendance-admin serve', admin], ['attendance-backend serve', backend]]) {
    child.once('exit', (code, signal) => {
      if (!stopping) console.error(`${name} exited early: code ${code}, signal ${signal}`);
    });
  }
  try {
    const [, adminUrl] = await waitForLine(admin, /listening (http:\/\/\S+)/, 20000, 'attendance-admin serve');
    const [, backendAddr] = await waitForLine(backend, /"listening":"([^"]+)"/, 20000, 'attendance-backend serve');
    const browser = await chromium.launch({
      executablePath: process.env.ATTENDANCE_CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const stop = async () => {
      stopping = true;
      await browser.close().catch(() => {});
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r)))));
      try {
        execFileSync('psql', ['-q', '-d', 'postgres', '-c', `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`]);
      } catch { /* the throwaway cluster goes away anyway */ }
    };
    return { adminUrl: adminUrl.replace(/\/$/, ''), backendUrl: `http://${backendAddr}`, browser, stop, env };
  } catch (err) {
    for (const c of children) c.kill('SIGTERM');
    throw err;
  }
}

export async function api(base, method, path, body, token) {
  const res = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

// RFC 4180 parser (quoted fields, doubled quotes, CRLF), for checking downloads.
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 1; }
    else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// The real path of check-ins: attendance-scanner on the BlueZ mock (tools/bluez-sim
// plays phones broadcasting `bleUuids`), then attendance-sync uploads the log.
// Phones stay long enough (--duration 10: at least 2 s each) for the scanner's presence rule
// (ADR 0025). Returns the log's check-in lines (what the scanner recorded). Null when the binaries
// are not built (then the caller posts the batch itself).
export async function scanAndSync({ bleUuids, eventId, scannerId, apiKey, backendUrl }) {
  const scannerBin = process.env.ATTENDANCE_SCANNER_BIN;
  const syncBin = process.env.ATTENDANCE_SYNC_BIN;
  const sim = process.env.ATTENDANCE_BLUEZ_SIM;
  if (!scannerBin || !syncBin || !sim) return null;
  const dir = mkdtempSync(join(tmpdir(), 'admin-venue-'));
  const ids = join(dir, 'ble-uuids.txt');
  writeFileSync(ids, bleUuids.join('\n') + '\n');
  const keyFile = join(dir, 'scanner.key');
  writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
  const log = join(dir, 'attendance_log.jsonl');
  const simLog = openSync(join(artifacts, 'venue.log'), 'w');
  execFileSync('/usr/bin/python3', [sim, 'venue', '--phones', String(bleUuids.length), '--duration', '10', '--seed', '7',
    '--noise-ratio', '0', '--weak-ratio', '0', '--formats', 'ibeacon', '--ble-uuids', ids, '--truth', join(artifacts, 'venue-truth.json'),
    // A test bench: the venue plays only these ids (no strangers), so no namespace filter is needed.
    '--', scannerBin, '--event', eventId, '--scanner-id', scannerId, '--log', log, '--fsync', 'always', '--accept-any-id'],
  { stdio: ['ignore', simLog, simLog], timeout: 120000 });
  const syncLog = openSync(join(artifacts, 'sync.log'), 'w');
  execFileSync(syncBin, ['--backend', backendUrl, '--api-key-file', keyFile, '--log', log, '--trust-clock'],
    { stdio: ['ignore', syncLog, syncLog], timeout: 120000 });
  // Check-in lines only: the scanner also writes last-seen lines (docs/log-format.md, ADR 0026).
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
    .filter((l) => !('lastSeen' in l));
}

// Signs in on the console's form.
export async function signIn(page, adminUrl) {
  await page.goto(`${adminUrl}/login`);
  await page.fill('#email', ADMIN_EMAIL);
  await page.fill('#password', ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${adminUrl}/events`);
}

// Resolves when the report has no request in flight and no search waiting for
// its debounce (app.js sets aria-busy on #report meanwhile).
export async function reportSettled(page) {
  await page.waitForFunction(() => {
    const r = document.querySelector('#report');
    return r && !r.hasAttribute('aria-busy');
  });
}

// Records every request the page makes for the report API.
export function recordReportRequests(page) {
  const urls = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (/^\/api\/events\/[^/]+\/report$/.test(u.pathname)) urls.push(u);
  });
  return urls;
}

// Every report request was one page (a limit of at most 500): never the unpaged report.
export function assertOnlyPages(urls, assert) {
  assert.ok(urls.length > 0, 'the page asked for the report');
  for (const u of urls) {
    const limit = Number(u.searchParams.get('limit'));
    assert.ok(u.searchParams.has('limit') && limit >= 1 && limit <= 500, `a paged request: ${u.pathname}${u.search}`);
  }
}

// Layout checks shared by layout.test.mjs and door.test.mjs (issue 16).
// What the test measures on each page: the document's width and every table's
// place. A table may be wider than its box only inside a horizontally scrolling
// container that itself fits the viewport.
export async function measure(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const tables = [...document.querySelectorAll('table')].map((t) => {
      let wrap = t.parentElement;
      while (wrap && wrap !== document.body && !/(auto|scroll)/.test(getComputedStyle(wrap).overflowX)) wrap = wrap.parentElement;
      const scrolls = wrap && wrap !== document.body;
      const box = (scrolls ? wrap : t).getBoundingClientRect();
      return {
        id: t.id || t.closest('[id]')?.id || '?',
        tableWidth: Math.ceil(t.getBoundingClientRect().width),
        scrolls,
        boxLeft: Math.floor(box.left),
        boxRight: Math.ceil(box.right),
        wrapScrollWidth: scrolls ? wrap.scrollWidth : null,
        wrapClientWidth: scrolls ? wrap.clientWidth : null,
      };
    });
    // Elements that stick out of the viewport, for a readable failure message.
    const outside = [...document.body.querySelectorAll('*')]
      .filter((el) => el.getClientRects().length > 0)
      .filter((el) => getComputedStyle(el).position === 'absolute' || !el.closest('.table-wrap'))
      .filter((el) => { const r = el.getBoundingClientRect(); return r.right > vw + 0.5 || r.left < -0.5; })
      .filter((el) => !el.matches('.skip'))  // the skip link waits off screen to the left until focused
      .slice(0, 8)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''} [${Math.round(el.getBoundingClientRect().left)}, ${Math.round(el.getBoundingClientRect().right)}]`);
    return { vw, scrollWidth: document.documentElement.scrollWidth, bodyScrollWidth: document.body.scrollWidth, tables, outside };
  });
}

export function assertFits(m, width, name) {
  assert.equal(m.vw, width, `${name}: the viewport is ${width} px wide`);
  assert.ok(m.scrollWidth <= width && m.bodyScrollWidth <= width,
    `${name} at ${width} px: the page is ${m.scrollWidth} px wide (it scrolls sideways); sticking out: ${m.outside.join(', ')}`);
  for (const t of m.tables) {
    assert.ok(t.boxLeft >= 0 && t.boxRight <= width, `${name} at ${width} px: table ${t.id}'s box [${t.boxLeft}, ${t.boxRight}] is outside the viewport`);
    if (t.tableWidth > width) {
      assert.ok(t.scrolls, `${name} at ${width} px: table ${t.id} (${t.tableWidth} px) is wider than the screen and not in a scrolling container`);
      assert.ok(t.wrapScrollWidth > t.wrapClientWidth, `${name} at ${width} px: table ${t.id} scrolls inside its card`);
    }
  }
}
