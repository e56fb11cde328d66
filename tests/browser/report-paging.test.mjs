// The report table of an event bigger than one page (120 registered, 5 walk-ins):
// the server answers one page at a time and the page shows exactly the rows the
// organizer asked for (sort, direction, filter, search, previous/next), computed
// here from the check-ins the test sent. The page never asks for the unpaged
// report. Plus event dates typed in a time zone with daylight saving time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  startStack, api, artifacts, signIn, reportSettled, recordReportRequests, assertOnlyPages,
} from './harness.mjs';

let stack;
let bigMeetup = null;  // what the first test synced: the expected rows for the test without JavaScript

before(async () => {
  // 125 sign-ups from one address in a few seconds: no per-address limit here.
  stack = await startStack({ tag: 'paging', backendArgs: ['--rate-limit', '0'] });
});

after(async () => {
  await stack?.stop();
});

const EVENT_ID = 'big-meetup';
const pad = (n) => String(n).padStart(2, '0');
// A time as the page shows it in a UTC browser, and as the server renders it: with its zone (issue 16).
const utc = (ms) => {
  if (ms === null) return '—';
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
};

// First and last names with distinct initials: every reasonable name order
// (bytes, case folding, a collation that skips spaces) agrees on them.
const FIRST = ['Ada', 'Ben', 'Cleo', 'Dev', 'Eli', 'Fay', 'Gus', 'Hal', 'Ivy', 'Jon', 'Kim', 'Lou'];
const LAST = ['Adams', 'Brown', 'Clark', 'Diaz', 'Evans', 'Ford', 'Green', 'Hill', 'Irwin', 'Jones'];

async function tableRows(page) {
  return page.$$eval('#participant-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
}

test('a large report pages, sorts, filters and searches on the server', async () => {
  const { adminUrl, backendUrl, browser } = stack;
  const context = await browser.newContext({ timezoneId: 'UTC', locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const requests = recordReportRequests(page);
  try {
    await signIn(page, adminUrl);
    await page.click('#new-event summary');
    await page.fill('#ev-name', 'Big Meetup');
    await page.fill('#ev-id', EVENT_ID);
    await page.click('#new-event button[type=submit]');
    await page.waitForURL(`${adminUrl}/events/${EVENT_ID}?notice=event-created`);
    await page.goto(`${adminUrl}/scanners`);
    await page.fill('#scanner-id', 'Door-1');
    await page.click('form[action="/scanners"] button[type=submit]');
    const apiKey = (await page.textContent('#api-key')).trim();
    await page.selectOption('form[action="/scanners/Door-1/assignments"] select', EVENT_ID);
    await page.click('form[action="/scanners/Door-1/assignments"] button[type=submit]');
    await page.waitForURL(`${adminUrl}/scanners?notice=scanner-assigned`);

    // 120 registered participants sign up through the backend; 5 more come without registering.
    const people = [];
    const signUp = async (i, register) => {
      const p = { email: `g${pad(i)}@paging.test`, displayName: `${FIRST[i % 12]} ${LAST[Math.floor(i / 12) % 10]}${i >= 120 ? ' Walk' : ''}` };
      const created = await api(backendUrl, 'POST', '/api/participants', { ...p, password: 'participant-pass-1' });
      assert.equal(created.status, 201, created.text);
      p.bleUuid = created.json.bleUuid;
      if (register) {
        const reg = await api(backendUrl, 'POST', `/api/events/${EVENT_ID}/registrations`, undefined, created.json.token);
        assert.equal(reg.status, 201, reg.text);
      }
      people.push(p);
    };
    for (let i = 0; i < 120; i += 1) await signUp(i, true);
    for (let i = 120; i < 125; i += 1) await signUp(i, false);

    // Two of three registered came (and every walk-in): distinct first times,
    // a second sighting for some.
    const t0 = Math.floor((Date.now() - 5 * 3600e3) / 1000) * 1000;
    const records = [];
    for (const [i, p] of people.entries()) {
      if (i < 120 && i % 3 === 2) { p.status = 'no-show'; p.first = null; p.last = null; continue; }
      p.status = i < 120 ? 'attended' : 'walk-in';
      p.first = t0 + ((i * 37) % 125) * 61_000;
      p.last = p.first + (i % 4) * 300_000;
      records.push({ bleUuid: p.bleUuid, checkInTime: p.first, scannerId: 'Door-1' });
      if (p.last !== p.first) records.push({ bleUuid: p.bleUuid, checkInTime: p.last, scannerId: 'Door-1' });
    }
    const sync = await api(backendUrl, 'POST', '/batchCheckIn', { eventId: EVENT_ID, records }, apiKey);
    assert.equal(sync.status, 200, sync.text);

    const row = (p) => [p.displayName, p.email, p.status, utc(p.first), utc(p.last), p.first === null ? '' : 'Door-1'];
    const byFirst = (a, b) => a.first - b.first;
    const byName = (a, b) => (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : 0);
    const seen = people.filter((p) => p.first !== null);
    assert.equal(seen.length, 85);
    bigMeetup = { firstPage: seen.slice().sort(byFirst).slice(0, 50).map(row) };

    await page.goto(`${adminUrl}/events/${EVENT_ID}`);
    await page.locator('#participant-table').waitFor();
    await reportSettled(page);
    const stats = await page.$$eval('#totals .stat', (els) => Object.fromEntries(els.map((e) => [e.querySelector('.stat-label').textContent, e.querySelector('.stat-value').textContent])));
    assert.deepEqual(stats, { Registered: '120', Attended: '80', 'No-shows': '40', 'Walk-ins': '5', 'Unknown devices': '0', 'Attendance rate': '66.7%' });
    assert.ok(await page.locator('.chart svg rect.bar').count() > 0, 'the arrivals chart is drawn');
    assert.ok(await page.locator('.chart svg rect.bar').count() <= 36, 'at most 36 bars');
    const barTotal = await page.$$eval('.chart svg rect.bar title', (ts) => ts.reduce((n, t) => n + Number(t.textContent.match(/: ([\d,]+) arrival/)[1].replace(/,/g, '')), 0));
    assert.equal(barTotal, 85, 'every first arrival is in a bar');
    // Next to the bars, the running total: one point per bar after a 0 at the start, each the sum of the
    // bars so far, ending at everyone who arrived; the legend names the bars' width (the server's bucket
    // width for 36 bars) and the total, and the right axis goes up to it.
    const bars = await page.$$eval('.chart svg rect.bar title', (ts) => ts.map((t) => Number(t.textContent.match(/: ([\d,]+) arrival/)[1].replace(/,/g, ''))));
    const running = bars.map((_, i) => bars.slice(0, i + 1).reduce((a, b) => a + b, 0));
    const line = page.locator('.chart svg polyline.cumulative');
    assert.equal(await line.count(), 1, 'a cumulative line is drawn');
    assert.deepEqual((await line.getAttribute('data-totals')).split(',').map(Number), running);
    assert.equal((await line.getAttribute('points')).trim().split(/\s+/).length, bars.length + 1);
    const ys = (await line.getAttribute('points')).trim().split(/\s+/).map((p) => Number(p.split(',')[1]));
    assert.ok(ys.every((y, i) => i === 0 || y <= ys[i - 1]), 'the line never goes down');
    // The width the server chose for 36 bars, asked outside the page (its requests are counted below).
    const asked = await page.context().request.get(`${adminUrl}/api/events/${EVENT_ID}/report?limit=50&buckets=36`);
    const { bucketMinutes } = (await asked.json()).arrivals;
    const unit = bucketMinutes % 60 === 0 ? `${bucketMinutes / 60} hour${bucketMinutes === 60 ? '' : 's'}` : `${bucketMinutes} min`;
    assert.equal(await page.textContent('#chart-unit'), `Arrivals per ${unit}`);
    assert.equal(await page.textContent('#chart-total'), 'Arrived so far, 85 in all');
    assert.deepEqual(await page.$$eval('.chart svg text.cumulative-axis', (ts) => ts.map((t) => t.textContent)), ['43', '85']);

    // Default: by first seen, the seen ones in time order; 50 rows per page.
    assert.equal(await page.textContent('#page-info'), '1–50 of 125');
    assert.deepEqual(await tableRows(page), seen.slice().sort(byFirst).slice(0, 50).map(row));
    await page.click('button[data-page="next"]');
    await reportSettled(page);
    assert.equal(await page.textContent('#page-info'), '51–100 of 125');
    const page2 = await tableRows(page);
    assert.deepEqual(page2.slice(0, 35), seen.slice().sort(byFirst).slice(50).map(row));
    assert.ok(page2.slice(35).every((r) => r[2] === 'no-show' && r[3] === '—'), 'no first-seen time sorts last');
    await page.click('button[data-page="next"]');
    await reportSettled(page);
    assert.equal(await page.textContent('#page-info'), '101–125 of 125');
    assert.equal(await page.isDisabled('button[data-page="next"]'), true);
    await page.click('button[data-page="previous"]');
    await reportSettled(page);
    assert.equal(await page.textContent('#page-info'), '51–100 of 125');

    // Sort by name (back to the first page), then descending.
    await page.click('#participant-table th:first-child button');
    await reportSettled(page);
    assert.equal(await page.textContent('#page-info'), '1–50 of 125');
    assert.deepEqual(await tableRows(page), people.slice().sort(byName).slice(0, 50).map(row));
    await page.click('#participant-table th:first-child button');
    await reportSettled(page);
    assert.equal(await page.getAttribute('#participant-table th:first-child', 'aria-sort'), 'descending');
    assert.deepEqual(await tableRows(page), people.slice().sort(byName).reverse().slice(0, 50).map(row));
    await page.click('button[data-page="next"]');
    await reportSettled(page);
    assert.deepEqual(await tableRows(page), people.slice().sort(byName).reverse().slice(50, 100).map(row));
    await page.screenshot({ path: join(artifacts, '10-large-report-by-name.png'), fullPage: true });

    // Filter: the 40 no-shows by name descending, on one page.
    await page.click('button[data-filter="no-show"]');
    await reportSettled(page);
    assert.equal(await page.textContent('#page-info'), '1–40 of 40');
    assert.deepEqual(await tableRows(page), people.filter((p) => p.status === 'no-show').sort(byName).reverse().map(row));
    assert.equal(await page.isDisabled('button[data-page="next"]'), true);

    // Search (debounced) within the filter, case-insensitive.
    await page.fill('#participants input[type=search]', 'ADA');
    await reportSettled(page);
    const ada = (p) => p.displayName.toLowerCase().includes('ada') || p.email.includes('ada');
    const adaNoShows = people.filter((p) => p.status === 'no-show' && ada(p)).sort(byName).reverse();
    assert.ok(adaNoShows.length > 0);
    assert.equal(await page.textContent('#page-info'), `1–${adaNoShows.length} of ${adaNoShows.length}`);
    assert.deepEqual(await tableRows(page), adaNoShows.map(row));
    // Typing fast sends at most one request per pause.
    const before = requests.length;
    await page.locator('#participants input[type=search]').pressSequentially('ms', { delay: 20 });
    await reportSettled(page);
    assert.equal(requests.length, before + 1, 'one request for "ADAms"');
    assert.equal(new URL(requests.at(-1)).searchParams.get('q'), 'ADAms');
    const adams = people.filter((p) => p.status === 'no-show' && p.displayName.toLowerCase().includes('adams')).sort(byName).reverse();
    assert.deepEqual(await tableRows(page), adams.map(row));

    // Walk-ins, by last seen ascending.
    await page.fill('#participants input[type=search]', '');
    await reportSettled(page);
    await page.click('button[data-filter="walk-in"]');
    await reportSettled(page);
    await page.click('#participant-table th:nth-child(5) button');
    await reportSettled(page);
    assert.equal(await page.getAttribute('#participant-table th:nth-child(5)', 'aria-sort'), 'ascending');
    assert.deepEqual(await tableRows(page), people.filter((p) => p.status === 'walk-in').sort((a, b) => a.last - b.last).map(row));

    // A search nobody matches keeps the controls and says so.
    await page.fill('#participants input[type=search]', 'zzzz');
    await reportSettled(page);
    await page.locator('#no-match').waitFor();
    assert.equal(await page.textContent('#page-info'), '0–0 of 0');

    // "Fetch Attendance Data" refetches the page the organizer is on.
    await page.fill('#participants input[type=search]', '');
    await page.click('button[data-filter="all"]');
    await reportSettled(page);
    await page.click('button[data-page="next"]');
    await reportSettled(page);
    const shown = await tableRows(page);
    const count = requests.length;
    await page.click('#fetch-report');
    await reportSettled(page);
    assert.equal(requests.length, count + 1);
    assert.equal(new URL(requests.at(-1)).searchParams.get('offset'), '50');
    assert.deepEqual(await tableRows(page), shown);
    assert.match(await page.textContent('#fetched-at'), /^Fetched at \d\d:\d\d:\d\d$/);

    // An answer that fails is reported and the table stays.
    const pageRequest = (url) => url.pathname.endsWith('/report') && url.search !== '';
    const failing = (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"The database is unavailable. Try again in a moment."}' });
    await page.route(pageRequest, failing);
    await page.click('#fetch-report');
    await reportSettled(page);
    assert.match(await page.textContent('#fetched-at'), /Could not fetch the report \(The database is unavailable/);
    assert.deepEqual(await tableRows(page), shown);
    await page.unroute(pageRequest, failing);

    // Out of order: a slow answer to an older request never replaces a newer one.
    let release;
    const held = new Promise((r) => { release = r; });
    const holding = async (route) => {
      if (new URL(route.request().url()).searchParams.get('filter') === 'attended') await held;
      await route.continue();
    };
    await page.route(pageRequest, holding);
    const staleBefore = Number(await page.getAttribute('#report', 'data-stale') ?? 0);
    await page.click('button[data-filter="attended"]');   // held back
    await page.click('button[data-filter="walk-in"]');    // answered first
    await page.waitForFunction(() => document.querySelector('#page-info')?.textContent === '1–5 of 5');
    release();
    // app.js counts the answers it dropped: the held one arrives and is dropped.
    await page.waitForFunction((n) => Number(document.querySelector('#report').dataset.stale ?? 0) === n + 1, staleBefore);
    await reportSettled(page);
    assert.equal(await page.textContent('#page-info'), '1–5 of 5');
    assert.equal(await page.getAttribute('button[data-filter="walk-in"]', 'aria-pressed'), 'true');
    assert.deepEqual((await tableRows(page)).map((r) => r[2]), ['walk-in', 'walk-in', 'walk-in', 'walk-in', 'walk-in']);
    await page.unroute(pageRequest, holding);

    assertOnlyPages(requests, assert);
    // None of the answers carried more than one page of participants.
    assert.ok(requests.every((u) => Number(u.searchParams.get('limit')) === 50));
  } finally {
    await context.close();
  }
});

// Issue 16: the report works without JavaScript. The server renders the totals
// and the first page of the table (by first seen, as the script shows it first);
// the script then takes that DOM over (the test above).
test('without JavaScript the event page shows the totals and the first page', async () => {
  assert.ok(bigMeetup, 'the test above synced the big event');
  const { adminUrl, browser } = stack;
  const context = await browser.newContext({ javaScriptEnabled: false, timezoneId: 'UTC', locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  try {
    await signIn(page, adminUrl);
    await page.goto(`${adminUrl}/events/${EVENT_ID}`);
    const stats = await page.$$eval('#totals .stat', (els) => Object.fromEntries(els.map((e) => [e.querySelector('.stat-label').textContent, e.querySelector('.stat-value').textContent])));
    assert.deepEqual(stats, { Registered: '120', Attended: '80', 'No-shows': '40', 'Walk-ins': '5', 'Unknown devices': '0', 'Attendance rate': '66.7%' });
    assert.equal(await page.textContent('#page-info'), '1–50 of 125');
    // Times in UTC, and saying so (no script to show local time).
    assert.deepEqual(await tableRows(page), bigMeetup.firstPage);
    assert.match(await page.textContent('#scanner-table'), /Door-1/);
    await page.screenshot({ path: join(artifacts, '11-large-report-without-javascript.png'), fullPage: true });
  } finally {
    await context.close();
  }
});

// Issue 16: a refused form keeps what was typed and says why next to the field.
test('a refused event form keeps what was typed, with the message at the field', async () => {
  const { adminUrl, browser } = stack;
  const context = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  try {
    await signIn(page, adminUrl);
    await page.click('#new-event summary');
    await page.fill('#ev-name', 'Backwards');
    await page.fill('#ev-venue', 'Hall C');
    await page.fill('#ev-id', 'backwards');
    await page.fill('#ev-starts', '2026-07-15T18:00');
    await page.fill('#ev-ends', '2026-07-15T17:00');
    await page.click('#new-event button[type=submit]');
    await page.locator('#ev-ends-error').waitFor();
    assert.equal(await page.textContent('#ev-ends-error'), 'The end must not be before the start.');
    assert.equal(await page.getAttribute('#ev-ends', 'aria-invalid'), 'true');
    assert.equal(await page.locator('.field-error').count(), 1, 'only the end is marked');
    // What was typed is there, in the same local time.
    assert.equal(await page.inputValue('#ev-name'), 'Backwards');
    assert.equal(await page.inputValue('#ev-venue'), 'Hall C');
    assert.equal(await page.inputValue('#ev-id'), 'backwards');
    assert.equal(await page.inputValue('#ev-starts'), '2026-07-15T18:00');
    assert.equal(await page.inputValue('#ev-ends'), '2026-07-15T17:00');
    // Next to the field: right under the end input, inside its field.
    const input = await page.locator('#ev-ends').boundingBox();
    const message = await page.locator('#ev-ends-error').boundingBox();
    const field = await page.locator('#ev-ends').locator('xpath=..').boundingBox();
    assert.ok(message.y >= input.y + input.height - 1 && message.y - (input.y + input.height) < 24, 'under the input');
    assert.ok(message.x >= field.x && message.x + message.width <= field.x + field.width + 1, 'within the field');
    await page.screenshot({ path: join(artifacts, '12-event-form-refused.png'), fullPage: true });
    // Corrected, it is created with what was kept.
    await page.fill('#ev-ends', '2026-07-15T21:00');
    await page.click('#new-event button[type=submit]');
    await page.waitForURL(`${adminUrl}/events/backwards?notice=event-created`);
    assert.equal(await page.textContent('#event-name'), 'Backwards');
  } finally {
    await context.close();
  }
});

test('event dates keep their own UTC offset across daylight saving time', async () => {
  const { adminUrl, browser } = stack;
  const context = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const eventJson = async (id) => {
    const list = await page.evaluate(async () => (await fetch('/api/events')).json());
    return list.events.find((e) => e.id === id);
  };
  try {
    await signIn(page, adminUrl);
    // Typed in Berlin: 18:00 in July is CEST (UTC+2), 18:00 in December is CET (UTC+1),
    // whatever the date today.
    await page.click('#new-event summary');
    assert.equal(await page.textContent('#new-event [data-tz-name]'), 'Europe/Berlin');
    await page.fill('#ev-name', 'Summer to winter');
    await page.fill('#ev-id', 'dst-check');
    await page.fill('#ev-starts', '2026-07-15T18:00');
    await page.fill('#ev-ends', '2026-12-15T18:00');
    await page.click('#new-event button[type=submit]');
    await page.waitForURL(`${adminUrl}/events/dst-check?notice=event-created`);
    let ev = await eventJson('dst-check');
    assert.equal(ev.startsAt, '2026-07-15T16:00:00.000Z');
    assert.equal(ev.endsAt, '2026-12-15T17:00:00.000Z');
    // Every event time says its zone (issue 16): the page head, and the events list, in the
    // browser's zone with the abbreviation of that date (summer CEST, winter CET).
    assert.deepEqual(await page.$$eval('.page-head time', (ts) => ts.map((t) => t.textContent)),
      ['2026-07-15 18:00 CEST', '2026-12-15 18:00 CET']);
    await page.goto(`${adminUrl}/events`);
    const starts = await page.$$eval('tr:has(a[href="/events/dst-check"]) time', (ts) => ts.map((t) => t.textContent));
    assert.deepEqual(starts, ['2026-07-15 18:00 CEST']);
    await page.goto(`${adminUrl}/events/dst-check`);
    // Shown and edited in local time again; saving unchanged keeps both instants.
    assert.equal(await page.inputValue('#ed-starts'), '2026-07-15T18:00');
    assert.equal(await page.inputValue('#ed-ends'), '2026-12-15T18:00');
    const save = 'form[method="post"][action="/events/dst-check"] button[type=submit]';
    await page.click(save);
    await page.waitForURL(`${adminUrl}/events/dst-check?notice=event-updated`);
    ev = await eventJson('dst-check');
    assert.equal(ev.startsAt, '2026-07-15T16:00:00.000Z');
    assert.equal(ev.endsAt, '2026-12-15T17:00:00.000Z');
    // A winter start moved to another winter date.
    await page.fill('#ed-starts', '2026-11-01T09:30');
    await page.click(save);
    await page.waitForURL(`${adminUrl}/events/dst-check?notice=event-updated`);
    ev = await eventJson('dst-check');
    assert.equal(ev.startsAt, '2026-11-01T08:30:00.000Z');
  } finally {
    await context.close();
  }

  // Without JavaScript the form says UTC and the server reads UTC.
  const plain = await browser.newContext({ timezoneId: 'Europe/Berlin', javaScriptEnabled: false });
  const p2 = await plain.newPage();
  p2.setDefaultTimeout(15000);
  try {
    await signIn(p2, adminUrl);
    await p2.click('#new-event summary');
    assert.equal(await p2.textContent('label[for="ev-starts"] [data-tz-name]'), 'UTC');
    await p2.fill('#ev-name', 'No script');
    await p2.fill('#ev-id', 'no-js');
    await p2.fill('#ev-starts', '2026-07-15T18:00');
    await p2.click('#new-event button[type=submit]');
    await p2.waitForURL(`${adminUrl}/events/no-js?notice=event-created`);
    await p2.goto(`${adminUrl}/api/events`);
    const list = JSON.parse(await p2.textContent('body'));
    assert.equal(list.events.find((e) => e.id === 'no-js').startsAt, '2026-07-15T18:00:00.000Z');
    // Without a script the times are UTC and say so.
    await p2.goto(`${adminUrl}/events/no-js`);
    assert.deepEqual(await p2.$$eval('.page-head time', (ts) => ts.map((t) => t.textContent)), ['2026-07-15 18:00 UTC']);
  } finally {
    await plain.close();
  }
});
