// The organizer's path through the admin console in real headless Chromium:
// sign in, create an event and a scanner, participants register through the
// backend's participant API, the report says it has not been synced, the
// scanner's batch arrives, "Fetch Attendance Data" shows exactly who came and
// when, and the CSV download matches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startStack, api, parseCsv, scanAndSync, artifacts, reportSettled, recordReportRequests, assertOnlyPages, ADMIN_EMAIL, ADMIN_PASSWORD,
} from './harness.mjs';

let stack;
let page;
let context;
let reportRequests;

before(async () => {
  stack = await startStack();
  // UTC so the times the page shows are predictable from the records.
  context = await stack.browser.newContext({ timezoneId: 'UTC', locale: 'en-US', acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  reportRequests = recordReportRequests(page);
});

after(async () => {
  await context?.close().catch(() => {});
  await stack?.stop();
});

const EVENT_ID = 'launch-night';
const SCANNER_ID = 'Entrance-Scanner-01';
const pad = (n) => String(n).padStart(2, '0');
const utc = (ms) => {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};
// As the page shows a time in the browser's zone (UTC here): with the zone (issue 16).
const shown = (ms) => `${utc(ms)} UTC`;

test('organizer signs in, syncs and reads the report', async () => {
  const { adminUrl, backendUrl } = stack;

  // --- sign in (a wrong password first) ---
  await page.goto(`${adminUrl}/events`);
  assert.match(page.url(), /\/login$/, 'an anonymous visitor is sent to the sign-in page');
  await page.fill('#email', ADMIN_EMAIL);
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit]');
  await page.getByText('Wrong email or password.').waitFor();
  await page.screenshot({ path: join(artifacts, '00-login-wrong-password.png') });
  await page.fill('#password', ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${adminUrl}/events`);
  await page.screenshot({ path: join(artifacts, '01-events-empty.png'), fullPage: true });

  // --- create the event ---
  await page.click('#new-event summary');
  await page.fill('#ev-name', 'Launch Night');
  await page.fill('#ev-venue', 'Main Hall');
  await page.fill('#ev-id', EVENT_ID);
  await page.click('#new-event button[type=submit]');
  await page.waitForURL(`${adminUrl}/events/${EVENT_ID}?notice=event-created`);
  await page.getByText('Event created.').waitFor();

  // --- create the scanner: the key is shown once ---
  await page.goto(`${adminUrl}/scanners`);
  await page.fill('#scanner-id', SCANNER_ID);
  await page.click('form[action="/scanners"] button[type=submit]');
  const apiKey = (await page.textContent('#api-key')).trim();
  assert.ok(apiKey.length >= 20, 'an API key is shown');
  await page.click('button[data-copy="api-key"]');
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  await page.screenshot({ path: join(artifacts, '02-scanner-key.png'), fullPage: true });
  await page.reload();
  assert.equal(await page.locator('#api-key').count(), 0, 'the key is not shown again');
  // --- assign it to the event: the backend refuses a scanner's sync into any other event ---
  const assignForm = `form[action="/scanners/${SCANNER_ID}/assignments"]`;
  await page.selectOption(`${assignForm} select`, EVENT_ID);
  await page.click(`${assignForm} button[type=submit]`);
  await page.waitForURL(`${adminUrl}/scanners?notice=scanner-assigned`);
  await page.locator('#scanner-list').getByText('Unassign').waitFor();

  // --- participants register through the backend's participant API ---
  const people = [
    { email: 'ana@example.org', displayName: 'Ana Lima' },
    { email: 'bo@example.org', displayName: 'Bo Chen' },
    { email: 'mallory@example.org', displayName: '<script>window.__pwned=1</script>' },
    { email: 'dee@example.org', displayName: 'Dee Okafor' },
  ];
  for (const p of people) {
    const created = await api(backendUrl, 'POST', '/api/participants', { ...p, password: 'participant-pass-1' });
    assert.equal(created.status, 201, created.text);
    p.bleUuid = created.json.bleUuid;
    const reg = await api(backendUrl, 'POST', `/api/events/${EVENT_ID}/registrations`, undefined, created.json.token);
    assert.equal(reg.status, 201, reg.text);
  }

  // --- before any sync ---
  await page.goto(`${adminUrl}/events/${EVENT_ID}`);
  await page.locator('#not-synced').getByText('Attendance data has not been synced.').waitFor();
  await reportSettled(page);
  assert.equal(await page.textContent('#registered-count'), '4');
  await page.screenshot({ path: join(artifacts, '03-report-before-sync.png'), fullPage: true });

  // --- the event happens: Ana and Mallory's phones reach the scanner, which
  // attendance-sync then uploads. Without the scanner binaries the test posts
  // the same kind of batch itself. Either way the expectations come from the
  // records the backend received. ---
  const ana = people[0];
  const mallory = people[2];
  let records = await scanAndSync({ bleUuids: [ana.bleUuid, mallory.bleUuid], eventId: EVENT_ID, scannerId: SCANNER_ID, apiKey, backendUrl });
  let unknownDevices = 0;
  if (records === null) {
    const t0 = Math.floor((Date.now() - 2 * 3600e3) / 1000) * 1000;
    records = [
      { bleUuid: ana.bleUuid, checkInTime: t0, scannerId: SCANNER_ID },
      { bleUuid: mallory.bleUuid, checkInTime: t0 + 95_000, scannerId: SCANNER_ID },
      { bleUuid: ana.bleUuid, checkInTime: t0 + 1800_000, scannerId: SCANNER_ID },
      { bleUuid: '0b6d4b9e-5c57-4a44-9a39-3e8f1c2d7a10', checkInTime: t0 + 60_000, scannerId: SCANNER_ID },
    ];
    unknownDevices = 1;
    const sync = await api(backendUrl, 'POST', '/batchCheckIn', { eventId: EVENT_ID, records }, apiKey);
    assert.equal(sync.status, 200, sync.text);
    assert.equal(sync.json.inserted, 4);
  }
  const seen = (uuid) => {
    const times = records.filter((r) => r.bleUuid === uuid).map((r) => r.checkInTime);
    assert.ok(times.length > 0, `the scanner saw ${uuid}`);
    return { first: Math.min(...times), last: Math.max(...times), count: times.length };
  };
  const anaSeen = seen(ana.bleUuid);
  const mallorySeen = seen(mallory.bleUuid);

  // --- live uploads (issue 14): the batch just arrived, so without a click or a reload the page
  // says the scanner is live (it polls /api/events/{id}/live, 15 s apart while nobody is live)
  // and, the report's version having moved, fetches the report by itself ---
  const liveItem = page.locator(`#live-scanners li[data-scanner="${SCANNER_ID}"]`);
  await liveItem.locator('.live-text.live').waitFor({ timeout: 25000 });
  assert.match(await liveItem.textContent(), new RegExp(`${SCANNER_ID} live — last upload \\d+ s ago`));
  assert.equal(await page.getAttribute('#report', 'data-live'), 'true');
  await page.locator('#totals').waitFor();
  await reportSettled(page);

  // --- Fetch Attendance Data: no full page reload ---
  await page.evaluate(() => { window.__samePage = true; });
  await page.click('#fetch-report');
  await page.locator('#totals').waitFor();
  await reportSettled(page);
  assert.equal(await page.evaluate(() => window.__samePage), true, 'the page was not reloaded');
  assert.match(await page.textContent('#fetched-at'), /^Fetched at \d\d:\d\d:\d\d$/);
  const stats = await page.$$eval('#totals .stat', (els) => Object.fromEntries(els.map((e) => [e.querySelector('.stat-label').textContent, e.querySelector('.stat-value').textContent])));
  assert.deepEqual(stats, {
    Registered: '4', Attended: '2', 'No-shows': '2', 'Walk-ins': '0', 'Unknown devices': String(unknownDevices), 'Attendance rate': '50%',
  });
  assert.match(await page.textContent('#scanner-table'), new RegExp(SCANNER_ID));
  assert.equal(await page.locator('.chart svg rect.bar').count() > 0, true, 'the arrivals chart is drawn');
  assert.equal(await page.textContent('#chart-zone'), 'Times in UTC.', 'the chart says the zone of its times');

  // Exactly the simulated attendees, with their times.
  await page.click('button[data-filter="attended"]');
  await reportSettled(page);
  const rows = await page.$$eval('#participant-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows, [
    ['Ana Lima', 'ana@example.org', 'attended', shown(anaSeen.first), shown(anaSeen.last), SCANNER_ID],
    ['<script>window.__pwned=1</script>', 'mallory@example.org', 'attended', shown(mallorySeen.first), shown(mallorySeen.last), SCANNER_ID],
  ].sort((a, b) => a[3].localeCompare(b[3])));
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'a participant name never runs as script');
  await page.click('button[data-filter="no-show"]');
  await reportSettled(page);
  const noShows = await page.$$eval('#participant-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent).sort());
  assert.deepEqual(noShows, ['Bo Chen', 'Dee Okafor']);
  await page.click('button[data-filter="all"]');
  await reportSettled(page);
  // Sorting by name, descending on the second click.
  await page.click('#participant-table th:first-child button');
  await reportSettled(page);
  assert.equal(await page.getAttribute('#participant-table th:first-child', 'aria-sort'), 'ascending');
  await page.click('#participant-table th:first-child button');
  await reportSettled(page);
  assert.equal(await page.getAttribute('#participant-table th:first-child', 'aria-sort'), 'descending');
  const byName = await page.$$eval('#participant-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(byName, ['Dee Okafor', 'Bo Chen', 'Ana Lima', '<script>window.__pwned=1</script>']);
  assert.equal(await page.textContent('#page-info'), '1–4 of 4');
  await page.screenshot({ path: join(artifacts, '04-report-after-sync.png'), fullPage: true });


  // --- Download CSV ---
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  assert.equal(download.suggestedFilename(), `attendance-${EVENT_ID}.csv`);
  const bytes = readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte order mark for Excel');
  const csv = parseCsv(bytes.subarray(3).toString('utf8'));
  // The manual columns (issue 16) come after the first eight, which consumers read by position.
  assert.deepEqual(csv[0], ['status', 'name', 'email', 'bleUuid', 'firstSeen', 'lastSeen', 'scanners', 'sightings', 'source', 'manualAt', 'manualBy', 'manualReason']);
  const iso = (ms) => new Date(ms).toISOString();
  const byEmail = Object.fromEntries(csv.slice(1).map((r) => [r[2] || r[3], r]));
  assert.deepEqual(byEmail['ana@example.org'], ['attended', 'Ana Lima', 'ana@example.org', ana.bleUuid, iso(anaSeen.first), iso(anaSeen.last), SCANNER_ID, String(anaSeen.count), 'scanner', '', '', '']);
  assert.deepEqual(byEmail['mallory@example.org'], ['attended', mallory.displayName, 'mallory@example.org', mallory.bleUuid, iso(mallorySeen.first), iso(mallorySeen.last), SCANNER_ID, String(mallorySeen.count), 'scanner', '', '', '']);
  assert.equal(byEmail['bo@example.org'][0], 'no-show');
  assert.equal(byEmail['dee@example.org'][0], 'no-show');
  assert.equal(csv.length, 1 + 4 + unknownDevices, 'header, four participants, the unknown devices');

  // The page only ever asked for pages of the report, never all of it.
  assertOnlyPages(reportRequests, assert);
  // The JSON API serves the same report.
  const json = await page.evaluate(async (u) => (await fetch(u)).json(), `/api/events/${EVENT_ID}/report`);
  assert.equal(json.summary.attended, 2);

  // --- the events list shows the counts; sign out ends the session ---
  await page.goto(`${adminUrl}/events`);
  const eventRow = await page.$$eval('#past-table tbody tr, #upcoming-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
  assert.equal(eventRow.length, 1);
  assert.equal(eventRow[0][2], '4');
  assert.equal(eventRow[0][3], '2');
  await page.screenshot({ path: join(artifacts, '05-events.png'), fullPage: true });
  await page.goto(`${adminUrl}/participants`);
  await page.screenshot({ path: join(artifacts, '06-participants.png'), fullPage: true });
  await page.click('button:has-text("Sign out")');
  await page.waitForURL(`${adminUrl}/login`);
  // Signed out, the event page sends the organizer to sign in, and then back to it (issue 16).
  await page.goto(`${adminUrl}/events/${EVENT_ID}`);
  assert.equal(page.url(), `${adminUrl}/login?next=${encodeURIComponent(`/events/${EVENT_ID}`)}`);
  await page.fill('#email', ADMIN_EMAIL);
  await page.fill('#password', ADMIN_PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${adminUrl}/events/${EVENT_ID}`);
  await page.locator('#totals').waitFor();
});
