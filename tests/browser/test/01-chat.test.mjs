// Two (or three) chat pages on one channel: presence, messages, private
// messages, leave notices, raw /cmd.announce sends.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
    TEST_TIMEOUT,
    launch,
    message,
    notice,
    say,
    screenshot,
    uniqueChannel,
    userEntry,
    userNames,
    withChats,
} from '../lib/harness.mjs';

let browser;
before(async () => {
    browser = await launch();
});
after(async () => {
    await browser?.close();
});

test('two pages join a channel and see each other', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'presence', async (open) => {
        const ch = uniqueChannel();
        const a = await open(ch);
        await userEntry(a.page, a.name).waitFor();
        const b = await open(ch);
        // A is told B joined, and both list both users (merged per userId).
        await notice(a.page, 'join', b.name).waitFor();
        await userEntry(a.page, b.name).waitFor();
        await userEntry(b.page, a.name).waitFor();
        await userEntry(b.page, b.name).waitFor();
        assert.deepEqual((await userNames(a.page)).sort(), [a.name, b.name].sort());
        assert.deepEqual((await userNames(b.page)).sort(), [a.name, b.name].sort());
        // The current channel is marked in the channel list.
        assert.equal(
            await a.page.getAttribute(`[data-testid="channel-${ch}"]`, 'aria-current'),
            'true',
        );
    }));

test('two pages exchange messages', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'exchange', async (open) => {
        const ch = uniqueChannel();
        const a = await open(ch);
        const b = await open(ch);
        await userEntry(a.page, b.name).waitFor();
        await say(a.page, 'hello from A');
        for (const p of [a.page, b.page]) {
            const m = message(p, 'hello from A');
            await m.waitFor();
            assert.equal(await m.getAttribute('data-from'), a.name);
            assert.equal(await m.getAttribute('data-private'), 'false');
        }
        await say(b.page, 'hi A, B here');
        for (const p of [a.page, b.page]) await message(p, 'hi A, B here').waitFor();
        // Each page got each message exactly once, in order.
        const texts = await a.page
            .locator('[data-testid=message-text]')
            .evaluateAll((els) => els.map((e) => e.textContent));
        assert.deepEqual(texts, ['hello from A', 'hi A, B here']);
        // Own messages are marked as such.
        assert.match(await message(a.page, 'hello from A').getAttribute('class'), /\bmine\b/);
    }));

test('a private message reaches only its target; the sender sees the @name echo',
    { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'private', async (open) => {
        const ch = uniqueChannel();
        const a = await open(ch);
        const b = await open(ch);
        const c = await open(ch);
        await userEntry(a.page, b.name).waitFor();
        await userEntry(a.page, c.name).waitFor();

        await say(a.page, `@${b.name} psst, secret`);
        const atB = message(b.page, 'psst, secret');
        await atB.waitFor();
        assert.equal(await atB.getAttribute('data-private'), 'true');
        assert.equal(await atB.getAttribute('data-from'), a.name);
        const echo = message(a.page, `@${b.name}: psst, secret`);
        await echo.waitFor();
        assert.equal(await echo.getAttribute('data-private'), 'true');

        // A public marker after it: once C has the marker, the private message
        // would have arrived before it.
        await say(a.page, 'marker after the secret');
        await message(c.page, 'marker after the secret').waitFor();
        await message(b.page, 'marker after the secret').waitFor();
        assert.equal(await message(c.page, 'psst, secret').count(), 0);
        assert.equal(await message(c.page, `@${b.name}: psst, secret`).count(), 0);
        assert.equal(await message(b.page, `@${b.name}: psst, secret`).count(), 0);
        // Not in A's log as a plain message either: A only has the echo.
        assert.equal(await message(a.page, 'psst, secret').count(), 0);
    }));

test('@me sends a private message to oneself', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'at-me', async (open) => {
        const ch = uniqueChannel();
        const a = await open(ch);
        const b = await open(ch);
        await userEntry(a.page, b.name).waitFor();
        await say(a.page, '@me note to self');
        await message(a.page, 'note to self').waitFor();
        await message(a.page, `@${a.name}: note to self`).waitFor();
        await say(a.page, 'marker after the note');
        await message(b.page, 'marker after the note').waitFor();
        assert.equal(await b.page.locator('[data-private=true]').count(), 0);
        // An unknown @name is refused locally.
        await say(a.page, '@nobody-here hello?');
        await a.page
            .locator('[data-testid=notice][data-kind=error]', { hasText: '@nobody-here' })
            .waitFor();
    }));

test('closing a page shows a leave notice on the other', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'leave', async (open) => {
        const ch = uniqueChannel();
        const a = await open(ch);
        const b = await open(ch);
        await userEntry(a.page, b.name).waitFor();
        await b.context.close();
        await notice(a.page, 'leave', b.name).waitFor();
        await userEntry(a.page, b.name).waitFor({ state: 'detached' });
        assert.deepEqual(await userNames(a.page), [a.name]);
    }));

test('raw /cmd.announce reaches every page of the channel', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'announce', async (open) => {
        const ch = uniqueChannel();
        const a = await open(ch);
        const b = await open(ch);
        await userEntry(a.page, b.name).waitFor();
        await say(a.page, '/cmd.announce This is your captain speaking');
        for (const p of [a.page, b.page]) {
            const banner = p.locator('#announce');
            await banner.waitFor({ state: 'visible' });
            assert.equal(await banner.textContent(), 'This is your captain speaking');
            await p.locator('[data-testid=notice][data-kind=announce]').waitFor();
        }
        // A raw send is not a chat message.
        assert.equal(await a.page.locator('[data-testid=message]').count(), 0);
    }));

test('a full conversation (screenshot)', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'screenshot', async (open) => {
        const ch = uniqueChannel('demo-');
        const a = await open(ch);
        const b = await open(ch);
        const c = await open(ch);
        await userEntry(a.page, c.name).waitFor();
        await say(b.page, 'morning all');
        await message(a.page, 'morning all').waitFor();
        await say(a.page, 'morning! the build is green');
        await message(a.page, 'morning! the build is green').waitFor();
        await say(a.page, `@${c.name} lunch at noon?`);
        await message(a.page, `@${c.name}: lunch at noon?`).waitFor();
        await say(c.page, '/cmd.announce Deploy at 14:00');
        await a.page.locator('#announce').waitFor({ state: 'visible' });
        await c.context.close();
        await notice(a.page, 'leave', c.name).waitFor();
        await userEntry(a.page, c.name).waitFor({ state: 'detached' });
        await screenshot(a.page, 'chat.png');
    }));
