// Channels: multi-channel delivery, subscriber lists (GetEventSubscribers),
// join/leave counting, and changing channels of a live subscription
// (UpdateEventSubscriber) — PROTOCOL.md §1.4, §1.5, §3.3–§3.5, §5.3 and
// ServiceStack's TS suite (§8.1 items 15–19).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    TEST_TIMEOUT,
    until,
    names,
    session,
    http,
    barrier,
    postChat,
    getSubscribers,
    GetEventSubscribers,
} from '../lib/harness.mjs';

const text = (m) => JSON.parse(m.json).message;
const texts = (c) => c.chats.map(text);

function assertMetaRow(row) {
    for (const [k, v] of Object.entries(row)) assert.equal(typeof v, 'string', `subscriber row ${k} must be a string`);
    assert.equal('id' in row, false, 'subscriber rows never carry the subscription id');
    for (const k of ['userId', 'displayName', 'channels', 'isAuthenticated', 'createdAt', 'profileUrl'])
        assert.ok(k in row, `subscriber row has ${k}`);
}

test('multi-channel: clients on A / A,B / A,B,C / A,B,C,D — subscriber lists and 1/2/3/4 deliveries, twice', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [A, B, C, D] = names('A', 'B', 'C', 'D');
    const cA = s.open([A]);
    const cAB = s.open([A, B]);
    const cABC = s.open([A, B, C]);
    const cABCD = s.open([A, B, C, D]);
    const all = [cA, cAB, cABC, cABCD];
    await Promise.all(all.map((c) => c.connected()));

    // getChannelSubscribers() asks for the client's own channels (de-duplicated union).
    const subsA = await cA.client.getChannelSubscribers();
    const subsAB = await cAB.client.getChannelSubscribers();
    const subsABCD = await cABCD.client.getChannelSubscribers();
    assert.equal(subsA.length, 4, 'A has 4 subscribers');
    assert.equal(subsAB.length, 4, 'A,B lists each subscriber once');
    assert.equal(subsABCD.length, 4);
    const ids = all.map((c) => c.info.userId).sort();
    assert.deepEqual(subsAB.map((u) => u.userId).sort(), ids);
    const me = subsA.find((u) => u.userId === cABC.info.userId);
    assert.deepEqual(me.channels, [A, B, C], 'ServerEventUser.channels split from the Meta string');
    assert.equal(me.displayName, cABC.info.displayName);
    assert.equal(me.meta.isAuthenticated, 'false');
    for (const row of await getSubscribers([A, B])) assertMetaRow(row);
    assert.equal((await getSubscribers([D])).length, 1);
    assert.equal((await getSubscribers([C, D])).length, 2);

    for (const round of [1, 2]) {
        await Promise.all([
            postChat(cA, `#${round} to A`, A),
            postChat(cA, `#${round} to B`, B),
            postChat(cA, `#${round} to C`, C),
            postChat(cA, `#${round} to D`, D),
        ]);
        const total = () => all.reduce((n, c) => n + c.chats.length, 0);
        await until(() => total() >= 10 * round, () => `${10 * round} deliveries, have ${total()}`);
        await barrier(cA, A, all);
        assert.deepEqual(all.map((c) => c.chats.length), [1, 2, 3, 4].map((n) => n * round));
    }
    assert.deepEqual(texts(cA).sort(), ['#1 to A', '#2 to A']);
    assert.deepEqual(texts(cAB).filter((x) => x.startsWith('#1')).sort(), ['#1 to A', '#1 to B']);
    const byLetter = { A, B, C, D };
    for (const m of cABCD.chats) assert.equal(m.channel, byLetter[text(m).slice(-1)], 'channel@ prefix of each chat');
    await Promise.all(all.map((c) => c.stop()));
});

test('join/leave: A and B, then A,B connects — join and subscriber counts, leaves on stop()', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [A, B] = names('A', 'B');
    const cA = s.open([A]);
    const cB = s.open([B]);
    await cA.connected();
    await cB.connected();
    const cAB = s.open([A, B]);
    const infoAB = await cAB.connected();
    await until(() => cA.rec.joins.length >= 2 && cB.rec.joins.length >= 2 && cAB.rec.joins.length >= 2,
        () => `joins A=${cA.rec.joins.length} B=${cB.rec.joins.length} AB=${cAB.rec.joins.length}`);
    await barrier(cAB, A, [cA, cAB]);
    await barrier(cAB, B, [cB, cAB]);
    assert.equal(cA.rec.joins.length, 2, 'A: own + AB');
    assert.equal(cB.rec.joins.length, 2, 'B: own + AB');
    assert.equal(cAB.rec.joins.length, 2, 'AB: own on A + own on B');
    assert.deepEqual(cAB.rec.joins.map((j) => j.channel), [A, B]);
    assert.equal(cA.rec.joins[1].userId, cAB.info.userId);

    assert.equal((await cA.client.getChannelSubscribers()).length, 2);
    assert.equal((await cB.client.getChannelSubscribers()).length, 2);
    assert.equal((await cAB.client.getChannelSubscribers()).length, 3);
    const req = (...channels) => Object.assign(new GetEventSubscribers(), { channels });
    assert.equal((await cA.client.serviceClient.get(req(A))).length, 2);
    assert.equal((await cB.client.serviceClient.get(req(B))).length, 2);
    assert.equal((await cAB.client.serviceClient.get(req(A, B))).length, 3);
    // The plain endpoint and its legacy `channel` key (§1.4).
    const plain = await http('GET', `/event-subscribers?channels=${A},${B}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.json.length, 3);
    assert.equal((await http('GET', `/event-subscribers?channel=${A}`)).json.length, 2);
    assert.equal((await http('GET', `/event-subscribers?Channels=${encodeURIComponent(`${A},${B}`)}`)).json.length, 3);

    await cAB.stop();
    await until(() => cA.rec.leaves.length + cB.rec.leaves.length >= 2, 'leaves of AB at A and B');
    await barrier(cA, A);
    await barrier(cB, B);
    assert.equal(cA.rec.leaves.length, 1);
    assert.equal(cB.rec.leaves.length, 1);
    assert.equal(cAB.rec.leaves.length, 0);
    assert.equal(cA.rec.leaves[0].channel, A);
    assert.equal(cB.rec.leaves[0].channel, B);
    assert.equal(cA.rec.leaves[0].userId, infoAB.userId);
    await Promise.all([cA.stop(), cB.stop()]);
});

test('join/leave: A,B first, then A and B — AB sees 4 joins and 2 leaves', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [A, B] = names('A', 'B');
    const cAB = s.open([A, B]);
    await cAB.connected();
    const cA = s.open([A]);
    const cB = s.open([B]);
    await Promise.all([cA.connected(), cB.connected()]);
    await until(() => cAB.rec.joins.length >= 4 && cA.rec.joins.length >= 1 && cB.rec.joins.length >= 1,
        () => `joins AB=${cAB.rec.joins.length} A=${cA.rec.joins.length} B=${cB.rec.joins.length}`);
    await barrier(cAB, A, [cA, cAB]);
    await barrier(cAB, B, [cB, cAB]);
    assert.equal(cAB.rec.joins.length, 4);
    assert.equal(cA.rec.joins.length, 1);
    assert.equal(cB.rec.joins.length, 1);

    await Promise.all([cA.stop(), cB.stop()]);
    await until(() => cAB.rec.leaves.length >= 2, () => `2 leaves at AB, have ${cAB.rec.leaves.length}`);
    await barrier(cAB, A);
    assert.equal(cAB.rec.leaves.length, 2);
    assert.deepEqual(cAB.rec.leaves.map((l) => l.channel).sort(), [A, B].sort());
    assert.equal(cA.rec.leaves.length, 0);
    assert.equal(cB.rec.leaves.length, 0);
    await cAB.stop();
});

test('subscribeToChannels while connected: onUpdate, then messages of the new channel arrive', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [A, B, C] = names('A', 'B', 'C');
    const c1 = s.open([A]);
    const c2 = s.open([B]);
    const info1 = await c1.connected();
    const info2 = await c2.connected();
    assert.deepEqual(c1.client.channels, [A]);

    await postChat(c2, '#1 hello to B', B);
    await until(() => c2.chats.length >= 1, '#1 at client2');
    await barrier(c1, A);
    assert.deepEqual(texts(c1), [], 'client1 (on A) does not get a chat to B');

    await c1.client.subscribeToChannels(B);
    assert.deepEqual(c1.rec.errors, []);
    assert.deepEqual(c1.client.channels, [A, B]);
    assert.deepEqual(c2.client.channels, [B]);
    assert.ok(c1.client.eventStreamUri.split('&')[0].endsWith(`?channels=${A},${B}`), c1.client.eventStreamUri);
    assert.ok(c2.client.eventStreamUri.split('&')[0].endsWith(`?channels=${B}`), c2.client.eventStreamUri);
    // onUpdate with the new channel list, to the updated client and to B's members.
    await until(() => c1.rec.updates.some((u) => u.userId === info1.userId && u.channels === `${A},${B}`),
        'onUpdate (channels A,B) at client1');
    await until(() => c2.rec.updates.some((u) => u.userId === info1.userId && u.channels === `${A},${B}`),
        'onUpdate about client1 at client2 (member of B)');
    for (const u of [...c1.rec.updates, ...c2.rec.updates]) {
        assert.equal(u.type, 'ServerEventUpdate');
        assert.equal(u.selector, 'cmd.onUpdate');
        assert.ok([A, B].includes(u.channel), `onUpdate carries a channel@ prefix (${u.channel})`);
    }
    assert.equal(c1.rec.joins.length, 1, 'no onJoin for a channel update');
    assert.equal(c2.rec.joins.length, 1, 'no onJoin for a channel update');
    assert.equal(c2.rec.leaves.length, 0);

    await Promise.all([postChat(c2, '#2 hello to B', B), postChat(c2, '#3 hello to C', C)]);
    await until(() => c1.chats.length >= 1 && c2.chats.length >= 2, '#2 at both');
    await barrier(c2, B, [c1, c2]);
    assert.deepEqual(texts(c1), ['#2 hello to B']);
    assert.deepEqual(texts(c2).sort(), ['#1 hello to B', '#2 hello to B'], '#3 to C reached nobody');
    assert.equal(c1.chats[0].channel, B);

    await Promise.all([c1.client.subscribeToChannels(C), c2.client.subscribeToChannels(C)]);
    await postChat(c2, '#4 hello to C', C);
    await until(() => c1.chats.length >= 2 && c2.chats.length >= 3, '#4 at both');
    await barrier(c2, C, [c1, c2]);
    assert.equal(c1.chats.length, 2);
    assert.equal(c2.chats.length, 3);
    assert.deepEqual(c1.client.channels, [A, B, C]);
    assert.deepEqual(c2.client.channels, [B, C]);
    assert.ok(c1.client.eventStreamUri.split('&')[0].endsWith(`?channels=${A},${B},${C}`));
    assert.ok(c2.client.eventStreamUri.split('&')[0].endsWith(`?channels=${B},${C}`));

    // The server's view follows: subscriber rows and heartbeat Meta.
    const rows = await getSubscribers([C]);
    assert.deepEqual(rows.map((r) => r.channels).sort(), [`${A},${B},${C}`, `${B},${C}`].sort());
    const n = c1.rec.heartbeats.length;
    await until(() => c1.rec.heartbeats.slice(n).some((h) => h.body.channels === `${A},${B},${C}`),
        'an onHeartbeat whose Meta lists A,B,C');
    assert.equal(info2.userId !== info1.userId, true);
    await c1.stop();
    await c2.stop();
});

test('unsubscribeFromChannels while connected: messages of the left channels stop arriving', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [A, B, C] = names('A', 'B', 'C');
    const c1 = s.open([A, B, C]);
    const c2 = s.open([B, C]);
    const info1 = await c1.connected();
    await c2.connected();
    assert.deepEqual(c1.client.channels, [A, B, C]);

    await postChat(c2, '#1 hello to B', B);
    await until(() => c1.chats.length >= 1 && c2.chats.length >= 1, '#1 at both');

    await c1.client.unsubscribeFromChannels(B);
    assert.deepEqual(c1.rec.errors, []);
    assert.deepEqual(c1.client.channels, [A, C]);
    await until(() => c1.rec.updates.some((u) => u.channels === `${A},${C}`), 'onUpdate (A,C) at client1');
    await until(() => c2.rec.updates.some((u) => u.userId === info1.userId && u.channels === `${A},${C}`),
        'onUpdate about client1 at client2');

    await Promise.all([postChat(c2, '#2 hello to B', B), postChat(c2, '#3 hello to C', C)]);
    await until(() => c2.chats.length >= 3, '#2 and #3 at client2');
    await until(() => c1.chats.length >= 2, '#3 at client1');
    await barrier(c1, A);
    await barrier(c2, B, [c2]);
    assert.deepEqual(texts(c1).sort(), ['#1 hello to B', '#3 hello to C']);
    assert.equal(c2.chats.length, 3);
    assert.deepEqual(c1.client.channels, [A, C]);
    assert.deepEqual(c2.client.channels, [B, C]);
    assert.ok(c1.client.eventStreamUri.split('&')[0].endsWith(`?channels=${A},${C}`));
    assert.ok(c2.client.eventStreamUri.split('&')[0].endsWith(`?channels=${B},${C}`));

    await Promise.all([c1.client.unsubscribeFromChannels(C), c2.client.unsubscribeFromChannels(C)]);
    await postChat(c2, '#4 hello to C', C);
    await barrier(c1, A);
    await barrier(c2, B);
    assert.equal(c1.chats.length, 2, '#4 to C reached nobody');
    assert.equal(c2.chats.length, 3, '#4 to C reached nobody');
    assert.deepEqual(c1.client.channels, [A]);
    assert.deepEqual(c2.client.channels, [B]);
    assert.ok(c1.client.eventStreamUri.split('&')[0].endsWith(`?channels=${A}`));
    assert.ok(c2.client.eventStreamUri.split('&')[0].endsWith(`?channels=${B}`));
    assert.deepEqual(await getSubscribers([C]), []);
    assert.equal(c1.rec.leaves.length + c2.rec.leaves.length, 0, 'no onLeave for a channel update');
    await c1.stop();
    await c2.stop();
});

test('updateSubscriberUrl accepts the jQuery form body and answers {} (§1.5)', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [A, B, C] = names('A', 'B', 'C');
    const c = s.open([A, B]);
    const info = await c.connected();
    const res = await http('POST', info.updateSubscriberUrl,
        `SubscribeChannels=${encodeURIComponent(C)}&UnsubscribeChannels=${encodeURIComponent(A)}`,
        { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {});
    await until(() => c.rec.updates.some((u) => u.channels === `${B},${C}`), 'onUpdate with B,C');
    const rows = await getSubscribers([B]);
    assert.equal(rows[0].channels, `${B},${C}`);
    // Unknown id: 404.
    const bad = await http('POST', '/api/UpdateEventSubscriber', { id: 'nosuchsubscription00', subscribeChannels: [A] });
    assert.equal(bad.status, 404);
    await c.stop();
});
