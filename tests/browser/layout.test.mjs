// Every admin page at a phone's width (390 px) and a desktop's (1280 px), with the
// longest things an organizer may type: the page itself never scrolls sideways
// (the header wraps, long names and ids break), and a table too wide for the
// screen scrolls inside its own card. Checked from layout boxes, not pixels; the
// screenshots of every page at both widths land in artifacts/ for a human look
// (issue 16).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, api, artifacts, signIn, reportSettled, measure, assertFits, EVENT_DAY, EVENT_END_DAY } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack({ tag: 'layout' });
});

after(async () => {
  await stack?.stop();
});

// Long names, a venue and ids with no place to break a line (ids have no spaces).
const EVENT_ID = 'InternationalConferenceOnOfflineFirstAttendance.2026:BerlinMainHall';
const EVENT_NAME = 'International Conference on Offline-First Attendance Tracking with Bluetooth Low Energy Scanners 2026';
const VENUE = 'Konferenzzentrum Friedrichshain-Kreuzberg, Großer Saal im Erdgeschoss, Eingang Nordflügel';
const SCANNER_ID = 'EntranceScannerNorthWingGroundFloorDoor07.backup:RaspberryPi4';
const PEOPLE = [
  { displayName: 'Maximiliane Alexandrina Konstantinopoulou-Wolfeschlegelsteinhausen', email: 'maximiliane.alexandrina.konstantinopoulou-wolfeschlegelsteinhausen@conference-participants.example.org' },
  { displayName: 'Bo Chen', email: 'bo@example.org' },
  { displayName: 'Nguyễn Thị Minh Khai Trần Hưng Đạo Lê Lợi Hai Bà Trưng', email: 'nguyen.thi.minh.khai@example.org' },
];

// An id no participant has (an unknown device).
const UNKNOWN = '0b6d4b9e-5c57-4a44-9a39-3e8f1c2d7a10';

// The unknown devices' tab is open: the one id no participant has, with its times and scanner,
// apart from the participants' table (hidden meanwhile), and their own CSV link.
async function assertUnknownTab(page) {
  await page.locator('#unknown-table').waitFor();
  assert.equal(await page.isVisible('#participants'), false, 'the participants are hidden');
  assert.equal(await page.getAttribute('#report-tabs a[data-tab="unknown-devices"]', 'aria-current'), 'true');
  assert.equal(await page.textContent('#unknown-count'), '1');
  const rows = await page.$$eval('#unknown-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows, [[UNKNOWN, `${EVENT_DAY} 18:06:00 UTC`, `${EVENT_DAY} 18:06:00 UTC`, SCANNER_ID, '1']]);
  assert.match(await page.getAttribute('#unknown-csv', 'href'), /^\/events\/[^/]+\/unknown-devices\.csv$/);
}

// A refused form keeps what was typed and says why next to the field (the create-event form's
// mechanism, issue 16): the edit form with an end before the start.
async function refuseEventEdit(page) {
  await page.fill('#ed-name', 'Renamed, but the end is wrong');
  await page.fill('#ed-ends', `${EVENT_DAY}T17:00`);
  await Promise.all([page.waitForNavigation(), page.click('#edit-event button[type=submit]')]);
  assert.equal(await page.textContent('#ed-ends-error'), 'The end must not be before the start.');
  assert.equal(await page.getAttribute('#ed-ends', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#ed-ends', 'aria-describedby'), 'ed-ends-error');
  assert.equal(await page.inputValue('#ed-name'), 'Renamed, but the end is wrong');
  assert.equal(await page.inputValue('#ed-starts'), `${EVENT_DAY}T18:00`);
  assert.equal(await page.inputValue('#ed-ends'), `${EVENT_DAY}T17:00`);
  assert.equal(await page.textContent('#event-name'), EVENT_NAME, 'nothing was saved');
}

// The new-participant form with an email that is taken.
async function refuseNewParticipant(page) {
  await page.click('#new-participant summary');
  await page.fill('#p-name', 'Bo Chen the Second');
  await page.fill('#p-email', PEOPLE[1].email);
  await Promise.all([page.waitForNavigation(), page.click('#new-participant button[type=submit]')]);
  assert.equal(await page.getAttribute('#new-participant', 'open'), '', 'the form is open');
  assert.equal(await page.textContent('#p-email-error'), 'A participant with that email already exists.');
  assert.equal(await page.getAttribute('#p-email', 'aria-invalid'), 'true');
  assert.equal(await page.inputValue('#p-name'), 'Bo Chen the Second');
  assert.equal(await page.inputValue('#p-email'), PEOPLE[1].email);
}

test('every admin page fits a 390 px phone and a 1280 px desktop', async () => {
  const { adminUrl, backendUrl, browser } = stack;

  // --- the data: an event, a scanner and participants with long names, one sync ---
  const setup = await browser.newContext({ timezoneId: 'UTC', locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const sp = await setup.newPage();
  sp.setDefaultTimeout(15000);
  await signIn(sp, adminUrl);
  await sp.click('#new-event summary');
  await sp.fill('#ev-name', EVENT_NAME);
  await sp.fill('#ev-venue', VENUE);
  await sp.fill('#ev-starts', `${EVENT_DAY}T18:00`);
  await sp.fill('#ev-ends', `${EVENT_END_DAY}T23:00`);
  await sp.fill('#ev-id', EVENT_ID);
  await sp.click('#new-event button[type=submit]');
  await sp.waitForURL(/notice=event-created/);
  await sp.goto(`${adminUrl}/scanners`);
  await sp.fill('#scanner-id', SCANNER_ID);
  await sp.click('form[action="/scanners"] button[type=submit]');
  const apiKey = (await sp.textContent('#api-key')).trim();
  const assignForm = `form[action="/scanners/${encodeURIComponent(SCANNER_ID)}/assignments"]`;
  await sp.selectOption(`${assignForm} select`, EVENT_ID);
  await sp.click(`${assignForm} button[type=submit]`);
  await sp.waitForURL(`${adminUrl}/scanners?notice=scanner-assigned`);
  const storage = await setup.storageState();
  await setup.close();

  for (const p of PEOPLE) {
    const created = await api(backendUrl, 'POST', '/api/participants', { ...p, password: 'participant-pass-1' });
    assert.equal(created.status, 201, created.text);
    p.bleUuid = created.json.bleUuid;
    const reg = await api(backendUrl, 'POST', `/api/events/${EVENT_ID}/registrations`, undefined, created.json.token);
    assert.equal(reg.status, 201, reg.text);
  }
  const t0 = Date.parse(`${EVENT_DAY}T18:05:00Z`);
  const records = [
    { bleUuid: PEOPLE[0].bleUuid, checkInTime: t0, scannerId: SCANNER_ID },
    { bleUuid: PEOPLE[2].bleUuid, checkInTime: t0 + 95_000, scannerId: SCANNER_ID },
    { bleUuid: UNKNOWN, checkInTime: t0 + 60_000, scannerId: SCANNER_ID },
  ];
  const sync = await api(backendUrl, 'POST', '/batchCheckIn', { eventId: EVENT_ID, records }, apiKey);
  assert.equal(sync.status, 200, sync.text);
  // The scanner sends its first record again with a new one and one from a clock that was never set
  // (1970, refused): 6 received, 4 distinct, 1 resent, 1 refused.
  const resend = [records[0], { bleUuid: PEOPLE[1].bleUuid, checkInTime: t0 + 120_000, scannerId: SCANNER_ID },
    { bleUuid: PEOPLE[1].bleUuid, checkInTime: 1000, scannerId: SCANNER_ID }];
  const again = await api(backendUrl, 'POST', '/batchCheckIn', { eventId: EVENT_ID, records: resend }, apiKey);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.duplicates, 1, again.text);
  assert.equal(again.json.rejected.length, 1, again.text);

  // --- every page at both widths ---
  const pages = [
    { name: 'login', path: '/login', signedIn: false },
    { name: 'events', path: '/events' },
    { name: 'events-new-form', path: '/events', open: '#new-event summary' },
    { name: 'event-report', path: `/events/${EVENT_ID}`, report: true },
    { name: 'event-unknown-devices', path: `/events/${EVENT_ID}?tab=unknown-devices`, unknown: true },
    { name: 'event-edit-refused', path: `/events/${EVENT_ID}`, act: refuseEventEdit },
    { name: 'participants', path: '/participants' },
    { name: 'participants-new-refused', path: '/participants', act: refuseNewParticipant },
    { name: 'scanners', path: '/scanners' },
  ];
  for (const width of [390, 1280]) {
    const signedIn = await browser.newContext({ timezoneId: 'UTC', locale: 'en-US', viewport: { width, height: width === 390 ? 844 : 900 }, storageState: storage });
    const anonymous = await browser.newContext({ timezoneId: 'UTC', locale: 'en-US', viewport: { width, height: width === 390 ? 844 : 900 } });
    try {
      for (const p of pages) {
        const page = await (p.signedIn === false ? anonymous : signedIn).newPage();
        page.setDefaultTimeout(15000);
        await page.goto(`${adminUrl}${p.path}`);
        const at = new URL(page.url());
        assert.equal(decodeURIComponent(at.pathname) + at.search, p.path, `${p.name}: not redirected`);
        if (p.open) await page.click(p.open);
        if (p.act) await p.act(page);
        if (p.unknown) await assertUnknownTab(page);
        if (p.report) {
          await page.locator('#totals').waitFor();
          await page.locator('.chart svg').waitFor();
          await reportSettled(page);
          // The long name and email are in the table.
          const cells = await page.$$eval('#participant-table tbody td', (tds) => tds.map((td) => td.textContent));
          assert.ok(cells.includes(PEOPLE[0].email), 'the long email is in the report table');
          // "Records received" says distinct, resent and refused, as app.js renders it after a fetch.
          await page.click('#fetch-report');
          await page.locator('#fetched-at', { hasText: 'Fetched at' }).waitFor();
          await reportSettled(page);
          const scanners = await page.$$eval('#scanner-table tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
          assert.deepEqual(scanners[0], ['Scanner', 'Last sync', 'Records received', 'Distinct', 'Resent', 'Refused']);
          assert.deepEqual(scanners.slice(1).map((r) => [r[0], ...r.slice(2)]), [[SCANNER_ID, '6', '4', '1', '1']]);
          // The unknown device has its own tab; switching to it and back happens in place.
          await page.click('#report-tabs a[data-tab="unknown-devices"]');
          await assertUnknownTab(page);
          assert.equal(new URL(page.url()).searchParams.get('tab'), 'unknown-devices');
          await page.click('#report-tabs a[data-tab="participants"]');
          assert.ok(await page.isVisible('#participant-table') && !(await page.isVisible('#unknown-table')));
        }
        assertFits(await measure(page), width, p.name);
        // Every time on every page says its zone (the browser runs in UTC here).
        const times = await page.$$eval('time', (ts) => ts.map((t) => t.textContent));
        for (const t of times) assert.match(t, /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC$/, `${p.name}: a time with its zone`);
        if (!['login', 'participants', 'participants-new-refused'].includes(p.name)) assert.ok(times.length > 0, `${p.name} shows times`);
        await page.screenshot({ path: join(artifacts, `layout-${width}-${p.name}.png`), fullPage: true });
        await page.close();
      }
    } finally {
      await signedIn.close();
      await anonymous.close();
    }
  }
  // Without JavaScript the tab is a link to the server-rendered list.
  const plain = await browser.newContext({ javaScriptEnabled: false, timezoneId: 'UTC', locale: 'en-US', viewport: { width: 390, height: 844 }, storageState: storage });
  try {
    const page = await plain.newPage();
    page.setDefaultTimeout(15000);
    await page.goto(`${adminUrl}/events/${EVENT_ID}`);
    assert.equal(await page.isVisible('#unknown-table'), false, 'the unknown devices wait behind their tab');
    await Promise.all([page.waitForNavigation(), page.click('#report-tabs a[data-tab="unknown-devices"]')]);
    assert.equal(new URL(page.url()).searchParams.get('tab'), 'unknown-devices');
    await assertUnknownTab(page);
    await page.screenshot({ path: join(artifacts, 'layout-390-event-unknown-devices-no-js.png'), fullPage: true });
  } finally {
    await plain.close();
  }
});
