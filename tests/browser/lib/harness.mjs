// Shared helpers for the browser tests: Debian's Chromium (/usr/bin/chromium),
// driven headless by playwright-core, on the demo chat page of a running
// ssepushd.
//
// run.sh starts the server and passes it in through the environment:
//   SSEPUSH_BASE_URL     e.g. http://127.0.0.1:40123 (no trailing slash)
//   BROWSER_ARTIFACTS    where screenshots go (never the source tree)
//   CHROMIUM             the browser binary (default /usr/bin/chromium)
//
// No fixed sleeps: every wait is a Playwright wait for a selector or a
// condition in the page, bounded by WAIT_MS. Where a test must show that
// something did NOT arrive, it sends a marker message after it and waits for
// the marker first (a subscription receives frames in order).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function env(name) {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run the tests through tests/browser/run.sh`);
    return v;
}

export const BASE = env('SSEPUSH_BASE_URL').replace(/\/+$/, '');
export const ARTIFACTS = env('BROWSER_ARTIFACTS');
export const TEST_TIMEOUT = 45_000;
export const WAIT_MS = 10_000;

// A channel name no other test uses.
let channelCounter = 0;
export function uniqueChannel(prefix = 't') {
    return `${prefix}${process.pid}-${Date.now().toString(36)}-${++channelCounter}`;
}

export async function launch() {
    return chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        // launch() gives the browser a fresh temporary user data dir of its own.
        args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
        ],
        timeout: 30_000,
    });
}

// One chat page in its own browser context (its own cookies: another user),
// connected to `channel`. Returns { page, context, name, userId }.
export async function openChat(browser, channel) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`${BASE}/?channel=${encodeURIComponent(channel)}`);
    const who = await connected(page);
    return { page, context, errors, ...who };
}

// Waits until the page is connected (again) and returns its identity.
export async function connected(page, notUserId) {
    await page.waitForFunction(
        (old) => {
            const me = document.getElementById('me');
            return document.body.dataset.state === 'connected' && me.dataset.userId &&
                me.dataset.userId !== old;
        },
        notUserId ?? null,
        { timeout: WAIT_MS },
    );
    return page.evaluate(() => {
        const me = document.getElementById('me');
        return { name: me.textContent.replace(/^you are /, ''), userId: me.dataset.userId };
    });
}

// Types a line into the chat box and sends it with Enter.
export async function say(page, text) {
    await page.fill('#chat-input', text);
    await page.press('#chat-input', 'Enter');
}

// The chat message whose text is exactly `text` (CSS attribute selectors
// cannot match text, so this is an XPath-free locator filter).
export function message(page, text) {
    return page
        .locator('[data-testid=message]')
        .filter({ has: page.locator('[data-testid=message-text]', { hasText: exact(text) }) });
}

export function notice(page, kind, user) {
    return page.locator(`[data-testid=notice][data-kind="${kind}"][data-user="${user}"]`);
}

export function userEntry(page, name) {
    return page.locator(`#users [data-testid=user][data-name="${name}"]`);
}

export async function userNames(page) {
    return page.locator('#users [data-testid=user]').evaluateAll((els) =>
        els.map((e) => e.dataset.name),
    );
}

// A regular expression matching exactly `text`.
export function exact(text) {
    return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

export function artifactPath(file) {
    mkdirSync(ARTIFACTS, { recursive: true });
    return join(ARTIFACTS, file);
}

export async function screenshot(page, file) {
    const path = artifactPath(file);
    await page.screenshot({ path });
    console.log(`screenshot: ${path}`);
    return path;
}

// Runs `fn(chats)` and closes the contexts it opened; on failure, screenshots
// every open page into the artifacts directory before rethrowing.
export async function withChats(browser, name, fn) {
    const opened = [];
    const open = async (channel) => {
        const c = await openChat(browser, channel);
        opened.push(c);
        return c;
    };
    try {
        await fn(open);
        for (const c of opened)
            if (c.errors.length) throw new Error(`page errors: ${c.errors.join('; ')}`);
    } catch (e) {
        for (const [i, c] of opened.entries()) {
            if (c.page.isClosed()) continue;
            await screenshot(c.page, `failed-${name}-${i + 1}.png`).catch(() => {});
        }
        throw e;
    } finally {
        for (const c of opened) await c.context.close().catch(() => {});
    }
}
