// Browser end-to-end test of the customer portal and the agent workspace.
//
// The story: a customer logs into the portal, submits a request with an attachment and logs
// out; an agent logs in, finds the request in the "unassigned" inbox view, opens it, posts a
// public reply (and an internal note) and logs out; the customer logs in again, opens the
// request and reads the agent's reply (and not the note).
//
// It drives Debian's Chromium through playwright-core (no bundled browser: `npx playwright
// install` cannot work on our machines). .ci/run starts `kefu serve --demo` and runs:
//
//   KEFU_E2E_BASE_URL=http://127.0.0.1:PORT \
//   KEFU_E2E_AGENT_EMAIL=… KEFU_E2E_AGENT_PASSWORD=… \
//   KEFU_E2E_CUSTOMER_EMAIL=… KEFU_E2E_CUSTOMER_PASSWORD=… \
//   node e2e/portal-flow.mjs
//
// Optional: KEFU_E2E_CHROMIUM (default /usr/bin/chromium), KEFU_E2E_ARTIFACTS (default
// e2e/artifacts), KEFU_E2E_TIMEOUT_MS (default 15000 per action), KEFU_E2E_SCREENSHOTS=1 (save
// a screenshot after every step, to look at the pages).
//
// Each step is asserted; on the first failure the script saves a screenshot and the page's HTML
// to the artifacts folder, prints what it expected and where, and exits 1.
//
// Selectors are the stable test hooks documented at the top of crates/kefu-server/src/web/mod.rs
// (ids and classes), not visible texts: the UI speaks English, 简体中文 or 繁體中文 depending on
// the user, and the demo agent works in Chinese. Besides the story, the test checks that the
// attachment serves the uploaded bytes and that an internal note never reaches the portal.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function env(name, fallback) {
  const v = process.env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback !== undefined) return fallback;
  console.error(`e2e: missing environment variable ${name}`);
  process.exit(2);
}

const BASE_URL = env('KEFU_E2E_BASE_URL').replace(/\/+$/, '');
const AGENT = { email: env('KEFU_E2E_AGENT_EMAIL'), password: env('KEFU_E2E_AGENT_PASSWORD') };
const CUSTOMER = { email: env('KEFU_E2E_CUSTOMER_EMAIL'), password: env('KEFU_E2E_CUSTOMER_PASSWORD') };
const CHROMIUM = env('KEFU_E2E_CHROMIUM', '/usr/bin/chromium');
const ARTIFACTS = path.resolve(env('KEFU_E2E_ARTIFACTS', path.join(here, 'artifacts')));
const TIMEOUT = Number(env('KEFU_E2E_TIMEOUT_MS', '15000'));
const SCREENSHOTS = env('KEFU_E2E_SCREENSHOTS', '') !== ''; // also save one after every passed step

// Unique per run, so that a reused database (or a demo seed with similar tickets) cannot make
// the test find someone else's ticket.
const RUN_ID = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const SUBJECT = `Printer on floor 3 jams on duplex [e2e ${RUN_ID}]`;
const DESCRIPTION = `Every duplex job since Monday stops after the first sheet. Log attached. (${RUN_ID})`;
const REPLY = `Thanks for the log: we replaced the duplex roller, please try again. (${RUN_ID})`;
const NOTE = `Internal: roller part RM1-4426 taken from spare stock. (${RUN_ID})`;
const ATTACHMENT_NAME = `printer-log-${RUN_ID}.txt`;
const ATTACHMENT_TEXT = `kefu e2e attachment ${RUN_ID}\nerror 0x4f duplex unit\n`;

// --------------------------------------------------------------------------------------------
// Harness: steps, timing, failure artifacts
// --------------------------------------------------------------------------------------------

class StepFailure extends Error {}

/** Fails the current step with a message a person can act on. */
function fail(message) {
  throw new StepFailure(message);
}

let page; // the one page of the run; every step uses it
const diagnostics = []; // console and page errors, 4xx/5xx responses, in order
let passed = 0;
let reported = false; // a step's failure has been reported
let attachmentUrl = ''; // where the uploaded file was last served from

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

async function step(name, fn) {
  const started = Date.now();
  process.stdout.write(`e2e: ${name} ... `);
  try {
    await fn();
  } catch (err) {
    const took = Date.now() - started;
    console.log(`FAILED (${took} ms)`);
    await reportFailure(name, err);
    reported = true;
    console.log(`e2e: ${passed} passed, 1 failed`);
    throw err;
  }
  passed += 1;
  console.log(`ok (${Date.now() - started} ms)`);
  if (SCREENSHOTS) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `${String(passed).padStart(2, '0')}-${slug(name)}-ok.png`), fullPage: true });
  }
}

async function reportFailure(name, err) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const base = path.join(ARTIFACTS, `${String(passed + 1).padStart(2, '0')}-${slug(name)}`);
  const lines = [];
  lines.push(`step failed: ${name}`);
  lines.push(`  reason: ${err instanceof StepFailure ? err.message : (err && err.stack) || err}`);
  if (page && !page.isClosed()) {
    lines.push(`  page:   ${page.url()}`);
    try {
      lines.push(`  title:  ${await page.title()}`);
      await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 10000 });
      fs.writeFileSync(`${base}.html`, await page.content());
      lines.push(`  saved:  ${base}.png and ${base}.html`);
    } catch (e) {
      lines.push(`  (could not save a screenshot: ${e.message})`);
    }
  }
  if (diagnostics.length) {
    lines.push('  browser diagnostics during the run:');
    for (const d of diagnostics.slice(-20)) lines.push(`    ${d}`);
  }
  console.error(lines.join('\n'));
}

// --------------------------------------------------------------------------------------------
// Page helpers
// --------------------------------------------------------------------------------------------

/** `#id` that must be on the page (the documented test hooks); fails with the page named. */
async function hook(selector, what) {
  const loc = page.locator(selector);
  try {
    await loc.first().waitFor({ state: 'attached', timeout: TIMEOUT });
  } catch {
    fail(`no ${what} (${selector}) on ${page.url()}`);
  }
  return loc.first();
}

async function expectVisible(locator, what) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch {
    fail(`expected ${what} to be visible on ${page.url()}, but it is not`);
  }
}

async function expectText(selector, expected, what) {
  const el = await hook(selector, what);
  const text = (await el.innerText()).trim();
  if (text !== expected) fail(`${what} (${selector}) reads "${text}", expected "${expected}"`);
}

function pathnameOf(url) {
  return new URL(url).pathname;
}

async function goto(pathname) {
  const res = await page.goto(`${BASE_URL}${pathname}`, { waitUntil: 'domcontentloaded' });
  if (!res) fail(`no response for GET ${pathname}`);
  if (res.status() >= 500) fail(`GET ${pathname} answered ${res.status()}`);
  return res;
}

/** Clicks and waits for the navigation it causes; fails on a 5xx answer. */
async function clickAndWait(control, what) {
  const nav = page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 2 * TIMEOUT });
  await control.click();
  let res;
  try {
    res = await nav;
  } catch {
    fail(`${what}: clicking did not load a new page within ${2 * TIMEOUT} ms (still at ${page.url()})`);
  }
  if (res && res.status() >= 500) fail(`${what}: the server answered ${res.status()} at ${pathnameOf(res.url())}`);
  return res;
}

async function alertText() {
  const err = page.locator('.alert.error');
  if ((await err.count()) === 0) return '';
  return (await err.allInnerTexts()).join(' | ').trim();
}

async function login(who, area) {
  await goto('/login');
  await (await hook('#login-email', 'email field')).fill(who.email);
  await (await hook('#login-password', 'password field')).fill(who.password);
  const res = await clickAndWait(await hook('#login-submit', 'login button'), `login as ${who.email}`);
  if (pathnameOf(page.url()).startsWith('/login')) {
    const msg = await alertText();
    fail(`login as ${who.email} stayed on ${page.url()} (status ${res?.status()})${msg ? ` with: "${msg}"` : ''}`);
  }
  if (!pathnameOf(page.url()).startsWith(area)) {
    fail(`login as ${who.email} landed on ${page.url()}, expected the ${area} area`);
  }
  await hook('#logout', 'log-out button of a signed-in page');
}

async function logout(protectedPath) {
  await clickAndWait(await hook('#logout', 'log-out button'), 'logging out');
  if (!pathnameOf(page.url()).startsWith('/login') && (await page.locator('#login-email').count()) === 0) {
    fail(`logging out landed on ${page.url()}, expected the login page`);
  }
  // The session must really be gone: the protected area now sends us to the login page.
  const res = await goto(protectedPath);
  const onLogin = pathnameOf(page.url()).startsWith('/login') || (await page.locator('#login-email').count()) > 0;
  if (!onLogin) {
    fail(`after logging out, ${protectedPath} still answers ${res.status()} at ${page.url()} instead of the login page`);
  }
}

/** Downloads the link's target with the page's cookies and checks the bytes are the uploaded file's. */
async function expectAttachmentContent(link) {
  const href = await link.getAttribute('href');
  if (!href) fail(`attachment link "${ATTACHMENT_NAME}" has no href`);
  attachmentUrl = new URL(href, page.url()).toString();
  const res = await page.context().request.get(attachmentUrl);
  if (res.status() !== 200) fail(`GET attachment ${href} answered ${res.status()}`);
  const body = await res.text();
  if (body !== ATTACHMENT_TEXT) {
    fail(`attachment ${href} returned ${body.length} bytes that differ from the uploaded ${ATTACHMENT_TEXT.length}`);
  }
}

/** The `.attachment a` link named like the uploaded file, checked to serve the file's bytes. */
async function expectAttachment(where) {
  const att = page.locator('.attachment a').filter({ hasText: ATTACHMENT_NAME });
  await expectVisible(att, `a link to the attachment "${ATTACHMENT_NAME}" (.attachment a) ${where}`);
  await expectAttachmentContent(att.first());
}

async function postFromComposer(visibility, text) {
  const radio = await hook(`#reply-${visibility}`, `"${visibility}" choice of the reply form`);
  await radio.check();
  await (await hook('#reply-body', 'reply textarea')).fill(text);
  await clickAndWait(await hook('#reply-submit', 'send button of the reply form'), `posting a ${visibility} message`);
  const msg = await alertText();
  if (msg) fail(`posting a ${visibility} message showed an error: "${msg}"`);
}

// --------------------------------------------------------------------------------------------
// The story
// --------------------------------------------------------------------------------------------

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kefu-e2e-profile-'));
  const upload = fs.mkdtempSync(path.join(os.tmpdir(), 'kefu-e2e-upload-'));
  const attachmentPath = path.join(upload, ATTACHMENT_NAME);
  fs.writeFileSync(attachmentPath, ATTACHMENT_TEXT);

  console.log(`e2e: ${BASE_URL} with ${CHROMIUM}, run ${RUN_ID}`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(2 * TIMEOUT);
  page = context.pages()[0] ?? (await context.newPage());
  // Kept for the failure report: script errors and every 4xx/5xx answer (with its URL, which
  // Chromium's own "Failed to load resource" console line lacks).
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) diagnostics.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => diagnostics.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) diagnostics.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });

  let portalTicketPath = '';
  let agentTicketPath = '';

  try {
    await step('customer logs into the portal', async () => {
      await login(CUSTOMER, '/portal');
    });

    await step('customer submits a request with an attachment', async () => {
      if (pathnameOf(page.url()) !== '/portal') await goto('/portal');
      await clickAndWait(await hook('#portal-new', '"new request" link'), 'opening the new-request form');
      if (pathnameOf(page.url()) !== '/portal/new') fail(`the "new request" link led to ${page.url()}, not /portal/new`);
      await (await hook('#portal-subject', 'subject field')).fill(SUBJECT);
      await (await hook('#portal-body', 'description field')).fill(DESCRIPTION);
      await (await hook('#portal-files', 'attachment field')).setInputFiles(attachmentPath);
      const res = await clickAndWait(await hook('#portal-submit', 'submit button'), 'submitting the request');
      const at = pathnameOf(page.url());
      if (!/^\/portal\/tickets\/[^/]+$/.test(at)) {
        const msg = await alertText();
        fail(`submitting the request led to ${page.url()} (status ${res?.status()})${msg ? ` with: "${msg}"` : ''}, expected /portal/tickets/{id}`);
      }
      portalTicketPath = at;
      await expectText('#ticket-subject', SUBJECT, "the new request's subject");
      await expectVisible(page.locator('.message.public').filter({ hasText: DESCRIPTION }), 'the description as a public message');
      await expectAttachment('on the new request');
    });

    await step('customer logs out, and the attachment is no longer served to the browser', async () => {
      await logout('/portal');
      const res = await page.context().request.get(attachmentUrl, { maxRedirects: 0 });
      if (res.status() === 200 && (await res.text()) === ATTACHMENT_TEXT) {
        fail(`${attachmentUrl} still serves the attachment after logging out`);
      }
    });

    await step('agent logs in', async () => {
      await login(AGENT, '/agent');
    });

    await step('agent sees the request in the inbox', async () => {
      // A new portal request is unassigned, so it belongs in "unassigned" (newest first). Should
      // routing ever assign it on arrival, "open" (all open tickets) must still list it.
      const row = page.locator('.ticket-row').filter({ hasText: SUBJECT });
      const seen = [];
      for (const view of ['unassigned', 'open']) {
        await clickAndWait(await hook(`.view-link[data-view="${view}"]`, `"${view}" view link`), `opening the ${view} view`);
        try {
          await row.first().waitFor({ state: 'visible', timeout: 2000 });
        } catch {
          seen.push(`${view}: ${await page.locator('.ticket-row').count()} rows at ${page.url()}`);
          continue;
        }
        if ((await row.count()) !== 1) fail(`expected exactly one row for "${SUBJECT}" in "${view}", found ${await row.count()}`);
        if (view !== 'unassigned') process.stdout.write(`(found in "${view}", not in "unassigned") `);
        return;
      }
      fail(`no .ticket-row with the subject "${SUBJECT}" in the inbox views (${seen.join('; ')})`);
    });

    await step('agent opens the ticket and sees the description and attachment', async () => {
      const row = page.locator('.ticket-row').filter({ hasText: SUBJECT }).first();
      const link = row.locator('.ticket-subject a');
      if ((await link.count()) !== 1) fail('the inbox row has no single subject link (.ticket-subject a)');
      await clickAndWait(link, 'opening the ticket');
      agentTicketPath = pathnameOf(page.url());
      if (!/^\/agent\/tickets\/[^/]+$/.test(agentTicketPath)) fail(`the subject link led to ${page.url()}, expected /agent/tickets/{id}`);
      await expectText('#ticket-subject', SUBJECT, 'the ticket subject');
      await expectVisible(
        page.locator('#conversation .message.public.from-customer').filter({ hasText: DESCRIPTION }),
        "the customer's description as a public customer message",
      );
      await expectAttachment('on the agent ticket page');
    });

    await step('agent posts a public reply', async () => {
      await postFromComposer('public', REPLY);
      if (pathnameOf(page.url()) !== agentTicketPath) fail(`after replying the page is ${page.url()}, expected ${agentTicketPath}`);
      await expectVisible(page.locator('.message.public').filter({ hasText: REPLY }), 'the reply as a .message.public');
      if ((await page.locator('.message.note').filter({ hasText: REPLY }).count()) > 0) {
        fail('the reply was posted as an internal note (.message.note), not as a public reply');
      }
    });

    await step('agent adds an internal note', async () => {
      await postFromComposer('note', NOTE);
      await expectVisible(page.locator('.message.note').filter({ hasText: NOTE }), 'the note as a .message.note');
      if ((await page.locator('.message.public').filter({ hasText: NOTE }).count()) > 0) {
        fail('the internal note was posted as a public message');
      }
    });

    await step('agent logs out', async () => {
      await logout('/agent');
    });

    await step('customer logs in again', async () => {
      await login(CUSTOMER, '/portal');
    });

    await step("customer opens the request and reads the agent's reply", async () => {
      if (pathnameOf(page.url()) !== '/portal') await goto('/portal');
      const row = page.locator('.request-row').filter({ hasText: SUBJECT });
      await expectVisible(row, `a .request-row for "${SUBJECT}" in the portal`);
      await clickAndWait(row.first().locator('.ticket-subject a'), 'opening the request');
      if (pathnameOf(page.url()) !== portalTicketPath) fail(`the request link led to ${page.url()}, expected ${portalTicketPath}`);
      await expectText('#ticket-subject', SUBJECT, 'the request subject');
      await expectVisible(page.locator('.message.public').filter({ hasText: DESCRIPTION }), "the customer's own description");
      await expectVisible(page.locator('.message.public.from-staff').filter({ hasText: REPLY }), "the agent's reply");
      await expectAttachment('on the portal request page');
      if ((await page.locator('.message.note').count()) > 0 || (await page.getByText(NOTE).count()) > 0) {
        fail("the customer can see the agent's internal note");
      }
    });
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(upload, { recursive: true, force: true });
  }

  console.log(`e2e: ${passed} passed, 0 failed`);
}

main().then(
  () => process.exit(0),
  (err) => {
    if (!reported) {
      // Not from a step: the browser did not start, or closing it failed.
      console.error(`e2e: ${page ? 'error outside the steps' : 'could not start the browser'}: ${(err && err.stack) || err}`);
      console.log(`e2e: ${passed} passed, 1 failed`);
    }
    process.exit(1);
  },
);
