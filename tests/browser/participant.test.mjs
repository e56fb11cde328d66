// The participant web app (docs/participant-web.md) in Chromium at a phone's
// width (390 px) and a desktop's (1280 px), without JavaScript of its own: sign
// up, sign out and in, register, the id as text and QR code, a sync, "Checked in
// at …", the export download and the deletion of the account. Every page is
// checked not to scroll sideways; screenshots land in artifacts/ (issue 12).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startStack, api, artifacts } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack({ tag: 'participant' });
});

after(async () => {
  await stack?.stop();
});

const EVENT_ID = 'ParticipantWebDemo.2026:MainHall';
const EVENT_NAME = 'Offline-First Attendance Meetup with a Rather Long Name for a Small Screen';
const SCANNER_ID = 'Entrance-Scanner-01';
const PASSWORD = 'participant-pass-1';

function admin(args) {
  return JSON.parse(execFileSync(process.env.ATTENDANCE_ADMIN_BIN, args, { env: stack.env, encoding: 'utf8' }));
}

async function fits(page, width, name) {
  const m = await page.evaluate(() => ({ vw: document.documentElement.clientWidth, sw: document.documentElement.scrollWidth }));
  assert.equal(m.vw, width, `${name}: the viewport is ${width} px wide`);
  assert.ok(m.sw <= width, `${name} at ${width} px: the page is ${m.sw} px wide (it scrolls sideways)`);
}

async function shot(page, name, width) {
  await page.screenshot({ path: join(artifacts, `participant-${name}-${width}.png`), fullPage: true });
}

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

test('a participant signs up, registers, sees the id and QR code, is checked in, exports and deletes', async () => {
  const { backendUrl, browser } = stack;
  const now = Date.now();
  admin(['event', 'create', '--id', EVENT_ID, '--name', EVENT_NAME, '--venue', 'Hall A',
    '--starts', new Date(now + 3600_000).toISOString(), '--ends', new Date(now + 3 * 3600_000).toISOString()]);
  const { apiKey } = admin(['scanner', 'create', '--id', SCANNER_ID]);
  admin(['scanner', 'assign', '--id', SCANNER_ID, '--event', EVENT_ID]);

  for (const width of [390, 1280]) {
    const email = `participant.${width}@example.org`;
    const context = await browser.newContext({ timezoneId: 'UTC', locale: 'en-US', viewport: { width, height: width === 390 ? 844 : 900 }, javaScriptEnabled: false });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    try {
      // Signed out: sent to sign in; from there to the sign-up form.
      await page.goto(`${backendUrl}/`);
      assert.equal(new URL(page.url()).pathname, '/signin');
      await fits(page, width, 'sign-in');
      await shot(page, 'signin', width);
      await submit(page, 'a[href="/signup"]');
      await page.fill('#displayName', 'Maximiliane Alexandrina Konstantinopoulou-Wolfeschlegelsteinhausen');
      await page.fill('#email', email);
      await page.fill('#password', 'short');
      await submit(page, 'form[action="/signup"] button[type=submit]');
      assert.equal(await page.textContent('#password-error'), 'password must be 8-1024 bytes');
      assert.equal(await page.inputValue('#email'), email, 'what was typed is kept');
      await fits(page, width, 'sign-up refused');
      await shot(page, 'signup-refused', width);
      await page.fill('#password', PASSWORD);
      await submit(page, 'form[action="/signup"] button[type=submit]');
      assert.equal(new URL(page.url()).search, '?notice=welcome');
      assert.match(await page.textContent('.alert-ok'), /Welcome/);

      // The id as text and as a QR code (drawn on the server).
      const bleUuid = (await page.textContent('#ble-uuid')).trim();
      assert.match(bleUuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const qr = await page.locator('svg.qr').boundingBox();
      assert.ok(qr && qr.width >= 150 && Math.abs(qr.width - qr.height) < 1, `a square QR code of a scannable size: ${JSON.stringify(qr)}`);
      assert.ok(qr.x >= 0 && qr.x + qr.width <= width, 'the QR code is on screen');
      // A real QR reader (zbar) reads the id back from the rendered code.
      const qrPng = join(artifacts, `participant-qr-${width}.png`);
      await page.locator('svg.qr').screenshot({ path: qrPng });
      assert.equal(execFileSync('zbarimg', ['-q', '--raw', qrPng], { encoding: 'utf8' }).trim(), bleUuid);
      await fits(page, width, 'home');

      // Sign out, then in again.
      await submit(page, 'form[action="/signout"] button');
      assert.equal(new URL(page.url()).pathname, '/signin');
      await page.fill('#email', email);
      await page.fill('#password', 'a wrong password');
      await submit(page, 'form[action="/signin"] button[type=submit]');
      assert.match(await page.textContent('.alert-error'), /Wrong email or password/);
      await page.fill('#password', PASSWORD);
      await submit(page, 'form[action="/signin"] button[type=submit]');
      assert.equal(new URL(page.url()).pathname, '/');

      // Register for the event: it moves to "My events", not synced yet (the second round: synced, not them).
      await submit(page, `#upcoming li[data-event="${EVENT_ID}"] button`);
      assert.match(await page.textContent(`#my-events li[data-event="${EVENT_ID}"]`),
        width === 390 ? /No check-ins synced yet/ : /Not checked in/);
      assert.match(await page.textContent(`#upcoming li[data-event="${EVENT_ID}"]`), /Registered/);
      await fits(page, width, 'registered');
      await shot(page, 'home', width);

      // A scanner syncs a check-in of this id: "Checked in at …" in UTC, as the admin shows times.
      const t = Date.now() - 60_000;
      const sync = await api(backendUrl, 'POST', '/batchCheckIn', { eventId: EVENT_ID, records: [{ bleUuid, checkInTime: t, scannerId: SCANNER_ID }] }, apiKey);
      assert.equal(sync.status, 200, sync.text);
      await page.reload();
      const iso = new Date(t).toISOString();
      assert.equal(await page.textContent(`#my-events li[data-event="${EVENT_ID}"] .badge`),
        `Checked in at ${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`);
      await fits(page, width, 'checked in');
      await shot(page, 'checked-in', width);

      // Export: a JSON download of what is stored, check-in time included.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
      assert.equal(download.suggestedFilename(), 'attendance-my-data.json');
      const data = JSON.parse(readFileSync(await download.path(), 'utf8'));
      assert.equal(data.account.email, email);
      assert.equal(data.account.bleUuid, bleUuid);
      assert.deepEqual(data.registrations.map((r) => r.eventId), [EVENT_ID]);
      assert.deepEqual(data.checkIns.map((c) => [c.eventId, c.checkInTime, c.scannerId]), [[EVENT_ID, iso, SCANNER_ID]]);

      // Delete: the password again; a wrong one deletes nothing.
      await page.goto(`${backendUrl}/account`);
      await fits(page, width, 'account');
      await shot(page, 'account', width);
      await page.fill('#confirm-password', 'not my password');
      await submit(page, 'form[action="/account/delete"] button[type=submit]');
      assert.equal(await page.textContent('#confirm-password-error'), 'That is not your password. Nothing was deleted.');
      await page.fill('#confirm-password', PASSWORD);
      await submit(page, 'form[action="/account/delete"] button[type=submit]');
      assert.equal(new URL(page.url()).search, '?notice=deleted');
      await shot(page, 'deleted', width);
      await page.goto(`${backendUrl}/`);
      assert.equal(new URL(page.url()).pathname, '/signin', 'signed out');

      // The organizer's report: no trace of the person; the sighting counts as an unknown device.
      const report = JSON.parse(execFileSync(process.env.ATTENDANCE_ADMIN_BIN, ['report', '--event', EVENT_ID, '--format', 'json'], { env: stack.env, encoding: 'utf8' }));
      assert.ok(!JSON.stringify(report).includes(email), 'the email is gone from the report');
      assert.equal(report.summary.registered, 0);
      // Their sightings stay, linked to no one: counted as deleted participants' ids, never shown
      // (migration 0012), not as unknown devices.
      assert.equal(report.summary.erasedIds, width === 390 ? 1 : 2, 'their sightings stay, counted only');
      assert.equal(report.summary.unknownDevices, 0);
    } finally {
      await context.close();
    }
  }
});

// Issue 12: an event with one seat. The holder has it, a second participant joins the waitlist
// ("Waitlisted #1"), the holder cancels and the second is promoted: their event page is now the
// confirmation to show at the door (name, event, "Registered", the id's QR code). A second event's
// registration has closed: no button, and the reason on its page.
async function signUp(page, backendUrl, name, email) {
  await page.goto(`${backendUrl}/signup`);
  await page.fill('#displayName', name);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await submit(page, 'form[action="/signup"] button[type=submit]');
  assert.equal(new URL(page.url()).search, '?notice=welcome');
}

test('a full event: waitlisted, promoted when the seat holder leaves, the door confirmation; closed registration', async () => {
  const { backendUrl, browser } = stack;
  const now = Date.now();
  for (const width of [390, 1280]) {
    const fullId = `Full-${width}`;
    const closedId = `Closed-${width}`;
    admin(['event', 'create', '--id', fullId, '--name', `One seat only (${width})`, '--capacity', '1',
      '--starts', new Date(now + 3600_000).toISOString(), '--ends', new Date(now + 3 * 3600_000).toISOString()]);
    admin(['event', 'create', '--id', closedId, '--name', `Closed meetup (${width})`,
      '--starts', new Date(now + 3600_000).toISOString(), '--ends', new Date(now + 3 * 3600_000).toISOString(),
      '--registration-closes', new Date(now - 60_000).toISOString()]);
    const options = { timezoneId: 'UTC', locale: 'en-US', viewport: { width, height: width === 390 ? 844 : 900 }, javaScriptEnabled: false };
    const holderContext = await browser.newContext(options);
    const waiterContext = await browser.newContext(options);
    const holder = await holderContext.newPage();
    const waiter = await waiterContext.newPage();
    holder.setDefaultTimeout(15000);
    waiter.setDefaultTimeout(15000);
    try {
      await signUp(holder, backendUrl, 'Seat Holder', `holder.${width}@example.org`);
      assert.match(await holder.textContent(`#upcoming li[data-event="${fullId}"]`), /1 seat left/);
      await submit(holder, `#upcoming li[data-event="${fullId}"] button`);
      assert.match(await holder.textContent('.alert-ok'), /You are registered/);

      await signUp(waiter, backendUrl, 'Wanda Waitlist', `waiter.${width}@example.org`);
      const bleUuid = (await waiter.textContent('#ble-uuid')).trim();
      const full = `#upcoming li[data-event="${fullId}"]`;
      assert.match(await waiter.textContent(full), /Full: waitlist/);
      assert.equal((await waiter.textContent(`${full} button`)).trim(), 'Join the waitlist');
      // Closed: the reason, no button.
      const closed = `#upcoming li[data-event="${closedId}"]`;
      assert.match(await waiter.textContent(closed), /Registration closed/);
      assert.equal(await waiter.locator(`${closed} button`).count(), 0);
      await fits(waiter, width, 'full and closed');
      await shot(waiter, 'full-and-closed', width);

      await submit(waiter, `${full} button`);
      assert.match(await waiter.textContent('.alert-ok'), /on the waitlist/);
      assert.match(await waiter.textContent(`#my-events li[data-event="${fullId}"]`), /Waitlisted #1/);
      assert.match(await waiter.textContent(full), /Waitlisted #1/);
      await fits(waiter, width, 'waitlisted');
      await shot(waiter, 'waitlisted', width);
      await waiter.goto(`${backendUrl}/events/${fullId}`);
      assert.match(await waiter.textContent('#status'), /number 1 on the waitlist/);
      assert.equal(await waiter.locator('#confirmation').count(), 0, 'no ticket while waiting');

      // The holder cancels: the seat goes to the waitlist's first.
      await holder.goto(`${backendUrl}/`);
      await submit(holder, `#my-events li[data-event="${fullId}"] form[action$="/unregister"] button`);
      assert.match(await holder.textContent('.alert-ok'), /cancelled/);

      await waiter.reload();
      assert.equal(await waiter.textContent('#conf-name'), 'Wanda Waitlist');
      assert.equal(await waiter.textContent('#conf-event'), `One seat only (${width})`);
      assert.equal((await waiter.textContent('#conf-status')).trim(), 'Registered');
      assert.equal((await waiter.textContent('#conf-id')).trim(), bleUuid);
      const qrPng = join(artifacts, `participant-confirmation-qr-${width}.png`);
      await waiter.locator('#confirmation svg.qr').screenshot({ path: qrPng });
      assert.equal(execFileSync('zbarimg', ['-q', '--raw', qrPng], { encoding: 'utf8' }).trim(), bleUuid);
      await fits(waiter, width, 'confirmation');
      await shot(waiter, 'confirmation', width);

      // The closed event's page says why.
      await waiter.goto(`${backendUrl}/events/${closedId}`);
      assert.match(await waiter.textContent('#status'), /Registration for Closed meetup \(\d+\) closed at \d{4}-\d\d-\d\d \d\d:\d\d UTC\./);
      await fits(waiter, width, 'closed');
    } finally {
      await holderContext.close();
      await waiterContext.close();
    }
  }
});
