// Channel switching and the chat history.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
    BASE,
    TEST_TIMEOUT,
    connected,
    launch,
    message,
    notice,
    say,
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

test('switching channels moves the page to the other channel', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'switch', async (open) => {
        const ch1 = uniqueChannel('one-');
        const ch2 = uniqueChannel('two-');
        const a = await open(ch1);
        const b = await open(ch1);
        const c = await open(ch2);
        await userEntry(b.page, a.name).waitFor();

        // A joins ch2 through the join field: a new subscription on ch2 only.
        await a.page.fill('#join-channel', ch2);
        await a.page.press('#join-channel', 'Enter');
        const a2 = await connected(a.page, a.userId);
        assert.equal(
            await a.page.getAttribute(`[data-testid="channel-${ch2}"]`, 'aria-current'),
            'true',
        );
        assert.equal(
            await a.page.getAttribute(`[data-testid="channel-${ch1}"]`, 'aria-current'),
            'false',
        );
        assert.equal(new URL(a.page.url()).searchParams.get('channel'), ch2);
        // ch1 sees A leave, ch2 sees A join.
        await notice(b.page, 'leave', a.name).waitFor();
        await notice(c.page, 'join', a2.name).waitFor();
        await userEntry(a.page, c.name).waitFor();
        assert.deepEqual((await userNames(a.page)).sort(), [a2.name, c.name].sort());

        // Messages now go to ch2 only.
        await say(a.page, 'hello ch2');
        await message(c.page, 'hello ch2').waitFor();
        await say(b.page, 'only on ch1');
        await message(b.page, 'only on ch1').waitFor();
        await say(c.page, 'marker on ch2');
        await message(a.page, 'marker on ch2').waitFor();
        assert.equal(await message(a.page, 'only on ch1').count(), 0);
        assert.equal(await message(b.page, 'hello ch2').count(), 0);

        // Back to ch1 with the channel list's button.
        await a.page.click(`[data-testid="channel-${ch1}"]`);
        const a3 = await connected(a.page, a2.userId);
        await notice(b.page, 'join', a3.name).waitFor();
        await notice(c.page, 'leave', a2.name).waitFor();
        // The log shows ch1's history again (not ch2's).
        await message(a.page, 'only on ch1').waitFor();
        assert.equal(await message(a.page, 'hello ch2').count(), 0);
    }));

test('a page that joins later is shown the history', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'history', async (open) => {
        const ch = uniqueChannel('hist-');
        const a = await open(ch);
        const b = await open(ch);
        await userEntry(a.page, b.name).waitFor();
        for (const text of ['first', 'second', 'third']) {
            await say(a.page, text);
            await message(a.page, text).waitFor();
        }
        await say(a.page, `@${b.name} not for the history`);
        await message(b.page, 'not for the history').waitFor();

        const late = await open(ch);
        for (const text of ['first', 'second', 'third']) {
            const m = message(late.page, text);
            await m.waitFor();
            assert.equal(await m.getAttribute('data-history'), 'true');
            assert.equal(await m.getAttribute('data-from'), a.name);
        }
        const texts = await late.page
            .locator('[data-testid=message-text]')
            .evaluateAll((els) => els.map((e) => e.textContent));
        assert.deepEqual(texts, ['first', 'second', 'third']);

        // New messages follow the history, once.
        await say(a.page, 'fourth');
        await message(late.page, 'fourth').waitFor();
        assert.equal(await message(late.page, 'fourth').getAttribute('data-history'), 'false');
        assert.equal(await message(late.page, 'third').count(), 1);
    }));

test('GET /chathistory: channels, afterId, take', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'history-api', async (open) => {
        const ch = uniqueChannel('api-');
        const other = uniqueChannel('api-other-');
        const a = await open(ch);
        for (const text of ['m1', 'm2', 'm3']) {
            await say(a.page, text);
            await message(a.page, text).waitFor();
        }
        const get = async (query) => {
            const r = await fetch(`${BASE}/chathistory?${query}`);
            assert.equal(r.status, 200);
            assert.match(r.headers.get('content-type'), /application\/json/);
            return (await r.json()).results;
        };
        const all = await get(`channels=${ch}`);
        assert.deepEqual(all.map((m) => m.message), ['m1', 'm2', 'm3']);
        for (const m of all) {
            assert.equal(m.channel, ch);
            assert.equal(m.fromUserId, a.userId);
            assert.equal(m.fromName, a.name);
            assert.equal(m.private, false);
            assert.ok(m.id > 0);
        }
        assert.deepEqual((await get(`channels=${ch}&take=2`)).map((m) => m.message), ['m2', 'm3']);
        assert.deepEqual(
            (await get(`channels=${ch}&afterId=${all[0].id}`)).map((m) => m.message),
            ['m2', 'm3'],
        );
        assert.deepEqual(await get(`channels=${other}`), []);
        assert.deepEqual(
            (await get(`channels=${other},${ch}`)).map((m) => m.message),
            ['m1', 'm2', 'm3'],
        );
        // The ServiceStack-style routes answer the same.
        const api = await (await fetch(`${BASE}/api/GetChatHistory?channels=${ch}&take=1`)).json();
        assert.deepEqual(api.results.map((m) => m.message), ['m3']);
        const bad = await fetch(`${BASE}/chathistory?channels=${ch}&take=x`);
        assert.equal(bad.status, 400);
    }));
