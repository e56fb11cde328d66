// Report page in headless Chromium for a large event: time from navigation to
// the totals and the first 50 rows, and from a sort / filter / next-page click
// until the table shows the new page. The table asks the server for one page
// at a time; this also checks that no request asked for the unpaged report and
// sums the bytes the report requests transferred.
//
//   pg_virtualenv -t -- bash -c 'build/ci/bench/admin/admin-report-bench --runs 1 --keep-db 1 &&
//     node bench/admin/browser_bench.mjs build/ci/apps/admin/attendance-admin'
//
// Uses the database admin-report-bench kept (admin_bench_*), creates an admin,
// runs `attendance-admin serve` on port 0 (default cache and refresh). The first
// navigation finds the cache empty (the server just started); later ones are warm.
// Needs tests/browser's node_modules.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const adminBin = process.argv[2];
const db = execFileSync('psql', ['-d', 'postgres', '-Atc', "SELECT datname FROM pg_database WHERE datname LIKE 'admin_bench_%' LIMIT 1"]).toString().trim();
if (!adminBin || !db) throw new Error('usage: browser_bench.mjs ATTENDANCE_ADMIN_BIN (after admin-report-bench --keep-db 1)');
const env = { ...process.env, PGDATABASE: db };
const pw = join(mkdtempSync(join(tmpdir(), 'admin-bb-')), 'pw');
writeFileSync(pw, 'browser-bench-password\n');
try {
  execFileSync(adminBin, ['create-admin', '--email', 'browser@example.org', '--password-file', pw], { env, stdio: 'ignore' });
} catch (e) { console.error('create-admin:', e.status); }
const server = spawn(adminBin, ['serve', '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
const url = await new Promise((resolve, reject) => {
  let buf = '';
  server.stdout.on('data', (c) => { buf += c; const m = buf.match(/listening (http:\/\/\S+)\//); if (m) resolve(m[1]); });
  server.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
});
// Never leave the server behind, even when a step fails.
process.on('exit', () => server.kill('SIGTERM'));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
page.setDefaultTimeout(120000);
await page.goto(`${url}/login`);
await page.fill('#email', 'browser@example.org');
await page.fill('#password', 'browser-bench-password');
await page.click('button[type=submit]');
await page.waitForURL(`${url}/events`, { timeout: 10000 }).catch(async () => { console.error(await page.textContent('body')); throw new Error('sign-in failed'); });
const reportRequests = [];
page.on('requestfinished', async (req) => {
  const u = new URL(req.url());
  if (!/^\/api\/events\/[^/]+\/report$/.test(u.pathname)) return;
  const sizes = await req.sizes().catch(() => ({ responseBodySize: 0 }));
  reportRequests.push({ url: u, bytes: sizes.responseBodySize });
});
const settled = () => page.waitForFunction(() => !document.querySelector('#report')?.hasAttribute('aria-busy'));
// In the page, from navigation start: when the totals and 50 rows are first visible.
await page.addInitScript(() => {
  const watch = () => {
    const obs = new MutationObserver(() => {
      if (window.__firstPageMs === undefined && document.querySelector('#totals')
        && document.querySelectorAll('#participant-table tbody tr').length === 50) {
        window.__firstPageMs = performance.now();
        obs.disconnect();
      }
    });
    obs.observe(document, { subtree: true, childList: true });
  };
  watch();
});
// In the page: from the click until the table shows what `want` describes and no request is pending.
const timeClick = (selector, want) => page.evaluate(({ selector, want }) => new Promise((resolve) => {
  const report = document.querySelector('#report');
  const done = () => {
    if (report.hasAttribute('aria-busy')) return false;
    const info = document.querySelector('#page-info')?.textContent ?? '';
    if (want.infoStarts && !info.startsWith(want.infoStarts)) return false;
    if (want.infoEnds && !info.endsWith(want.infoEnds)) return false;
    if (want.sortedBy && document.querySelector(want.sortedBy)?.getAttribute('aria-sort') !== 'ascending') return false;
    return true;
  };
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (done()) { obs.disconnect(); resolve(Math.round(performance.now() - t0)); }
  });
  obs.observe(report, { subtree: true, childList: true, attributes: true, characterData: true });
  document.querySelector(selector).click();
}), { selector, want });
const results = [];
for (let run = 0; run < 5; run += 1) {
  const t0 = Date.now();
  await page.goto(`${url}/events/big-event`);
  await page.waitForFunction(() => window.__firstPageMs !== undefined);
  const driver = Date.now() - t0;
  const timing = await page.evaluate(() => ({
    shell: Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd),
    firstPage: Math.round(window.__firstPageMs),
  }));
  await settled();
  const sort = await timeClick('#participant-table th:nth-child(1) button', { sortedBy: '#participant-table th:nth-child(1)', infoStarts: '1–50 ' });
  const filter = await timeClick('button[data-filter="no-show"]', { infoEnds: ' of 10,000' });
  const next = await timeClick('button[data-page="next"]', { infoStarts: '51–100' });
  const rows = await page.locator('#participant-table tbody tr').count();
  results.push({ shell: timing.shell, firstPage: timing.firstPage, firstPageSeenByDriver: driver, sort, filter, next, rowsInDom: rows });
}
const unpaged = reportRequests.filter((r) => !r.url.searchParams.has('limit'));
if (unpaged.length) throw new Error(`unpaged report requests: ${unpaged.map((r) => r.url.href).join(' ')}`);
const bytes = reportRequests.map((r) => r.bytes);
// Resident memory of the server with the big event's report cached (JSON, CSV, the sort orders used).
const rssKb = Number((readFileSync(`/proc/${server.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [])[1]);
console.log(JSON.stringify({
  database: db,
  serverRssMb: Math.round(rssKb / 1024),
  runs: results,
  reportRequests: reportRequests.length,
  reportBytesMax: Math.max(...bytes),
  reportBytesTotal: bytes.reduce((a, b) => a + b, 0),
}));
await browser.close();
server.kill('SIGTERM');
