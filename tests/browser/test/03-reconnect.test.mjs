// The page reconnects by itself when the server forgets its subscription.
// Last file: ResetServerEvents drops every subscription on the server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
    BASE,
    TEST_TIMEOUT,
    connected,
    launch,
    message,
    say,
    uniqueChannel,
    userEntry,
    withChats,
} from '../lib/harness.mjs';

let browser;
before(async () => {
    browser = await launch();
});
after(async () => {
    await browser?.close();
});

test('after ResetServerEvents the pages reconnect and chat again', { timeout: TEST_TIMEOUT }, () =>
    withChats(browser, 'reconnect', async (open) => {
        const ch = uniqueChannel('re-');
        const a = await open(ch);
        const b = await open(ch);
        await userEntry(a.page, b.name).waitFor();
        await say(a.page, 'before the reset');
        await message(b.page, 'before the reset').waitFor();

        const r = await fetch(`${BASE}/reset-serverevents`, { method: 'POST' });
        assert.equal(r.status, 204);
        // New subscriptions (new anonymous user ids) on the same channel.
        const a2 = await connected(a.page, a.userId);
        const b2 = await connected(b.page, b.userId);
        await userEntry(a.page, b2.name).waitFor();
        await userEntry(b.page, a2.name).waitFor();

        await say(b.page, 'after the reset');
        await message(a.page, 'after the reset').waitFor();
        // The history load after reconnecting adds nothing twice.
        assert.equal(await message(b.page, 'before the reset').count(), 1);
    }));
