// The door (issue 16): door staff check a participant in by hand and revoke a
// check-in on the event page, with a reason; the audit trail (who, when, why) is
// on the page and the participants' table marks those rows as manual, apart
// from the scanners' rows. A refused door form, and a refused registration,
// keep what was typed with the message next to the field. It works without
// JavaScript. At 390 px and 1280 px, checked from layout boxes, with
// screenshots of each state and of the admin pages' other states that
// layout.test.mjs does not show (an event before any sync, a scanner's key
// shown once, a refused new event) in artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStack, api, artifacts, signIn, reportSettled, measure, assertFits, ADMIN_EMAIL, EVENT_DAY, EVENT_END_DAY } from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack({ tag: 'door' });
});

after(async () => {
  await stack?.stop();
});

const EVENT_ID = 'door-meetup';
const EMPTY_ID = 'no-data-yet';
const PEOPLE = [
  { displayName: 'Ana Lima', email: 'ana@example.org', register: true },
  { displayName: 'Bo Chen', email: 'bo@example.org', register: true },
  { displayName: 'Cy Walk-In', email: 'cy@example.org', register: false },
];

async function shot(page, width, name) {
  assertFits(await measure(page), width, name);
  await page.screenshot({ path: join(artifacts, `door-${width}-${name}.png`), fullPage: true });
}

// Submits the door form with the given button and waits for the answer page.
async function door(page, email, reason, action) {
  await page.fill('#door-email', email);
  await page.fill('#door-reason', reason);
  await Promise.all([page.waitForNavigation(), page.click(`#door button[value="${action}"]`)]);
}

// The participants' table rows as [name, status cell text].
async function statusCells(page) {
  return page.$$eval('#participant-table tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[2].textContent.trim()]));
}

async function auditRows(page) {
  return page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
}

test('door staff check in and revoke with an audit trail, at 390 px and 1280 px', async () => {
  const { adminUrl, backendUrl, browser } = stack;

  const setup = await browser.newContext({ timezoneId: 'UTC', locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const sp = await setup.newPage();
  sp.setDefaultTimeout(15000);
  await signIn(sp, adminUrl);
  for (const [id, name] of [[EVENT_ID, 'Door Meetup'], [EMPTY_ID, 'Nothing synced yet']]) {
    await sp.goto(`${adminUrl}/events`);
    await sp.click('#new-event summary');
    await sp.fill('#ev-name', name);
    await sp.fill('#ev-starts', `${EVENT_DAY}T18:00`);
    await sp.fill('#ev-ends', `${EVENT_END_DAY}T23:00`);
    await sp.fill('#ev-id', id);
    await Promise.all([sp.waitForURL(/notice=event-created/), sp.click('#new-event button[type=submit]')]);
  }
  const storage = await setup.storageState();
  await setup.close();
  for (const p of PEOPLE) {
    const created = await api(backendUrl, 'POST', '/api/participants', { displayName: p.displayName, email: p.email, password: 'participant-pass-1' });
    assert.equal(created.status, 201, created.text);
    if (p.register) {
      const reg = await api(backendUrl, 'POST', `/api/events/${EVENT_ID}/registrations`, undefined, created.json.token);
      assert.equal(reg.status, 201, reg.text);
    }
  }

  for (const width of [390, 1280]) {
    const ctx = await browser.newContext({ timezoneId: 'UTC', locale: 'en-US', viewport: { width, height: width === 390 ? 844 : 900 }, storageState: storage });
    try {
      const page = await ctx.newPage();
      page.setDefaultTimeout(15000);
      // Each width checks in its own participant: Ana at 390 px, Bo at 1280 px.
      const person = width === 390 ? PEOPLE[0] : PEOPLE[1];

      // An event before any sync or check-in.
      await page.goto(`${adminUrl}/events/${EMPTY_ID}`);
      await page.locator('#not-synced').waitFor();
      assert.equal(await page.textContent('#no-audit'), 'Nobody has been checked in or revoked by hand.');
      await shot(page, width, 'event-not-synced');

      await page.goto(`${adminUrl}/events/${EVENT_ID}`);
      // Refused: a blank reason (the field's required attribute lets spaces through; the server does not).
      await door(page, person.email, '   ', 'check_in');
      assert.equal(await page.textContent('#door-reason-error'), 'Give a reason (it is kept in the audit trail).');
      assert.equal(await page.getAttribute('#door-reason', 'aria-invalid'), 'true');
      assert.equal(await page.inputValue('#door-email'), person.email, 'the email is kept');
      await shot(page, width, 'door-refused-reason');
      // Refused: nobody with that email; the reason is kept.
      await door(page, 'nobody@example.org', 'lost her phone', 'check_in');
      assert.equal(await page.textContent('#door-email-error'), 'No participant has this email.');
      assert.equal(await page.inputValue('#door-reason'), 'lost her phone');
      assert.equal(await page.inputValue('#door-email'), 'nobody@example.org');

      // Checked in by hand: the notice, the row's badge, the audit trail.
      await door(page, person.email, 'phone battery dead', 'check_in');
      assert.match(page.url(), /notice=door-checked-in/);
      await reportSettled(page);
      assert.equal((await page.textContent('.alert-ok')).trim(), 'Checked in by hand. It is in the audit trail below.');
      assert.deepEqual((await statusCells(page)).find(([name]) => name === person.displayName), [person.displayName, 'attended manual']);
      const audit = await auditRows(page);
      assert.equal(audit[0][1], `${person.displayName} ${person.email}`);
      assert.deepEqual(audit[0].slice(2), ['checked in', ADMIN_EMAIL, 'phone battery dead']);
      assert.match(audit[0][0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, 'when, with its zone');
      // The manual badge is apart from the scanner's rows: nobody else has one.
      assert.equal(await page.locator('#participant-table [data-source="manual"]').count(), width === 390 ? 1 : 2);
      await shot(page, width, 'door-checked-in');

      // A second check-in is refused (409) and records nothing.
      await door(page, person.email, 'again', 'check_in');
      assert.equal(await page.textContent('#door-email-error'), 'This participant is already checked in.');
      assert.equal(await page.inputValue('#door-reason'), 'again');
      assert.equal((await auditRows(page)).length, width === 390 ? 1 : 3);

      // Revoked: a no-show again, marked as revoked; newest first in the trail.
      await door(page, person.email, 'it was her sister', 'revoke');
      assert.match(page.url(), /notice=door-revoked/);
      await reportSettled(page);
      assert.deepEqual((await statusCells(page)).find(([name]) => name === person.displayName), [person.displayName, 'no-show revoked']);
      assert.deepEqual((await auditRows(page))[0].slice(2), ['revoked', ADMIN_EMAIL, 'it was her sister']);
      await shot(page, width, 'door-revoked');

      // The registration form keeps a refused email with the message next to it.
      await page.fill('#reg-email', 'zed@example.org');
      await Promise.all([page.waitForNavigation(), page.click('#registrations button[type=submit]:has-text("Register participant")')]);
      assert.equal(await page.textContent('#reg-email-error'), 'No participant has this email. Create the participant on the Participants page first.');
      assert.equal(await page.inputValue('#reg-email'), 'zed@example.org');
      assert.equal(await page.getAttribute('#reg-email', 'aria-invalid'), 'true');
      await shot(page, width, 'event-registration-refused');

      // A refused new event (the end before the start) and a scanner's key shown once.
      await page.goto(`${adminUrl}/events`);
      await page.click('#new-event summary');
      await page.fill('#ev-name', 'Backwards');
      await page.fill('#ev-starts', `${EVENT_DAY}T18:00`);
      await page.fill('#ev-ends', `${EVENT_DAY}T17:00`);
      await Promise.all([page.waitForNavigation(), page.click('#new-event button[type=submit]')]);
      assert.equal(await page.textContent('#ev-ends-error'), 'The end must not be before the start.');
      await shot(page, width, 'events-new-refused');
      await page.goto(`${adminUrl}/scanners`);
      await page.fill('#scanner-id', `Door-Scanner-${width}`);
      await Promise.all([page.waitForNavigation(), page.click('form[action="/scanners"] button[type=submit]')]);
      assert.match((await page.textContent('#api-key')).trim(), /^att_/);
      await shot(page, width, 'scanner-key-shown');
    } finally {
      await ctx.close();
    }
  }

  // Without JavaScript the door form works the same: Cy, who never registered, is checked in as a walk-in.
  const plain = await browser.newContext({ javaScriptEnabled: false, timezoneId: 'UTC', locale: 'en-US', viewport: { width: 390, height: 844 }, storageState: storage });
  try {
    const page = await plain.newPage();
    page.setDefaultTimeout(15000);
    await page.goto(`${adminUrl}/events/${EVENT_ID}`);
    await door(page, PEOPLE[2].email, 'registered on paper', 'check_in');
    assert.match(page.url(), /notice=door-checked-in/);
    assert.deepEqual((await statusCells(page)).find(([name]) => name === PEOPLE[2].displayName), [PEOPLE[2].displayName, 'walk-in manual']);
    assert.deepEqual((await auditRows(page))[0].slice(2), ['checked in', ADMIN_EMAIL, 'registered on paper']);
    await shot(page, 390, 'door-no-js');
  } finally {
    await plain.close();
  }
});
