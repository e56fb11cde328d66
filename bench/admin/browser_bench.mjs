// Report page in headless Chromium for a large event: time from navigation to
// the totals and first table page, and to re-sort / re-filter 50,000 rows.
//
//   pg_virtualenv -- bash -c 'build/ci/bench/admin/admin-report-bench --runs 1 --keep-db 1 &&
//     node bench/admin/browser_bench.mjs build/ci/apps/admin/attendance-admin'
//
// Uses the database admin-report-bench kept (admin_bench_*), creates an admin,
// runs `attendance-admin serve` on port 0. Needs tests/browser's node_modules.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
const results = [];
for (let run = 0; run < 5; run += 1) {
  const t0 = Date.now();
  await page.goto(`${url}/events/big-event`);
  const shell = Date.now() - t0;
  await page.locator('#participant-table tbody tr').first().waitFor();
  const report = Date.now() - t0;
  const rows = await page.locator('#participant-table tbody tr').count();
  const t1 = Date.now();
  await page.click('#participant-table th:nth-child(1) button');
  await page.waitForFunction(() => document.querySelector('#participant-table th:nth-child(1)')?.getAttribute('aria-sort') === 'ascending');
  const sort = Date.now() - t1;
  const t2 = Date.now();
  await page.click('button[data-filter="no-show"]');
  await page.waitForFunction(() => document.querySelector('#page-info')?.textContent.includes('of 10,000'));
  const filter = Date.now() - t2;
  results.push({ shell, report, sort, filter, rowsInDom: rows });
}
console.log(JSON.stringify({ database: db, runs: results }));
await browser.close();
server.kill('SIGTERM');
