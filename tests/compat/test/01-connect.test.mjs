// Connecting, onConnect, joins/leaves, heartbeats and stop() — PROTOCOL.md
// §3.1–§3.6, §1.2–§1.3, and ServiceStack's own TS suite (§8.1 items 1–4, 6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    BASE,
    HEARTBEAT_MS,
    IDLE_MS,
    TEST_TIMEOUT,
    until,
    names,
    session,
    http,
    getSubscribers,
} from '../lib/harness.mjs';

const META_KEYS = ['userId', 'isAuthenticated', 'displayName', 'channels', 'createdAt', 'profileUrl'];

function assertMeta(m, info, what) {
    for (const k of META_KEYS) assert.equal(typeof m[k], 'string', `${what}: ${k} must be a string`);
    assert.equal(m.userId, info.userId, `${what}: userId`);
    assert.equal(m.displayName, info.displayName, `${what}: displayName`);
    assert.equal(m.isAuthenticated, 'false', `${what}: isAuthenticated`);
    assert.equal(m.createdAt, String(info.createdAt), `${what}: createdAt`);
    assert.equal(m.profileUrl, info.profileUrl, `${what}: profileUrl`);
}

test('connect: onConnect carries every field of PROTOCOL §3.1, client.channels echoes the request', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const channels = names('A', 'B', 'C');
    const before = Date.now();
    const c = s.open(channels);
    const info = await c.connected();
    await until(() => c.rec.joins.length >= 3, () => `3 joins, have ${c.rec.joins.length}`);

    // The frame itself: first on the stream, no channel prefix, positive event id.
    const first = c.rec.frames[0];
    assert.equal(first.selector, 'cmd.onConnect');
    assert.equal(first.type, 'ServerEventConnect');
    assert.equal(first.channel, null, 'onConnect has no channel@ prefix');
    assert.ok(first.eventId > 0, `eventId ${first.eventId} > 0`);

    // Types as sent (the client converts the two ...Ms strings before onConnect sees them).
    const raw = c.rec.connectRequests[0].body;
    assert.equal(typeof raw, 'object');
    assert.match(raw.id, /^[A-Za-z0-9]{20}$/, 'id: 20 chars of [A-Za-z0-9]');
    for (const k of ['id', 'unRegisterUrl', 'heartbeatUrl', 'updateSubscriberUrl', 'heartbeatIntervalMs',
        'idleTimeoutMs', 'userId', 'isAuthenticated', 'displayName', 'channels', 'createdAt', 'profileUrl'])
        assert.equal(typeof raw[k], 'string', `onConnect.${k} must be a JSON string, got ${JSON.stringify(raw[k])}`);
    assert.equal(raw.heartbeatIntervalMs, String(HEARTBEAT_MS));
    assert.equal(raw.idleTimeoutMs, String(IDLE_MS));
    assert.equal(raw.isAuthenticated, 'false');
    assert.match(raw.createdAt, /^\d+$/, 'createdAt: unix ms');
    const created = Number(raw.createdAt);
    assert.ok(created >= before - 5_000 && created <= Date.now() + 5_000,
        `createdAt ${created} near now (${before}..${Date.now()})`);
    assert.equal(raw.channels, channels.join(','), 'channels echoed comma-joined, in order');
    assert.match(raw.userId, /^-\d+$/, 'anonymous userId "-N"');
    const n = raw.userId.slice(1);
    assert.equal(raw.displayName, `user${n}`, 'displayName "userN" with the same N');
    assert.ok(raw.profileUrl.length > 0, 'profileUrl set');

    // URLs: absolute, pointing back at the base URL the client used.
    assert.ok(raw.heartbeatUrl.startsWith(BASE), `heartbeatUrl ${raw.heartbeatUrl} starts with ${BASE}`);
    assert.ok(raw.unRegisterUrl.startsWith(BASE), `unRegisterUrl ${raw.unRegisterUrl} starts with ${BASE}`);
    assert.equal(raw.heartbeatUrl, `${BASE}/event-heartbeat?id=${raw.id}`);
    assert.equal(raw.unRegisterUrl, `${BASE}/event-unregister?id=${raw.id}`);
    assert.equal(raw.updateSubscriberUrl, `${BASE}/event-subscribers/${raw.id}`);

    // What the client made of it.
    assert.equal(info.id, raw.id);
    assert.equal(info.heartbeatIntervalMs, HEARTBEAT_MS, 'client parsed heartbeatIntervalMs');
    assert.equal(info.idleTimeoutMs, IDLE_MS, 'client parsed idleTimeoutMs');
    assert.equal(c.client.getSubscriptionId(), raw.id);
    assert.deepEqual(c.client.channels, channels, 'client.channels equals the requested list');
    assert.equal(c.client.updateSubscriberUrl, raw.updateSubscriberUrl);
    assert.ok(c.client.eventStreamUri.split('&')[0].endsWith(`/event-stream?channels=${channels.join(',')}`),
        `eventStreamUri ${c.client.eventStreamUri}`);

    await c.stop();
});

test('connect: the default channel "*" is echoed and the next command is the own join', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const c = s.open(['*']);
    const info = await c.connected();
    await until(() => c.rec.commands.length >= 1, 'first command');
    assert.equal(info.heartbeatUrl.startsWith(BASE), true);
    assert.equal(c.rec.connectRequests[0].body.channels, '*');
    assert.deepEqual(c.client.channels, ['*']);
    const join = c.rec.commands[0];
    assert.equal(join.type, 'ServerEventJoin');
    assert.equal(join.channel, '*');
    assert.equal(join.displayName, info.displayName);
    assert.equal(join.userId, info.userId);
    // onConnect first, own join second, nothing in between.
    assert.deepEqual(c.rec.frames.slice(0, 2).map((f) => f.data.split(' ')[0]), ['cmd.onConnect', '*@cmd.onJoin']);
    await c.stop();
});

test('onJoin: a client on A,B,C gets three joins about itself, in order A, B, C', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const channels = names('A', 'B', 'C');
    const c = s.open(channels);
    const info = await c.connected();
    await until(() => c.rec.joins.length >= 3, () => `3 joins, have ${c.rec.joins.length}`);
    assert.deepEqual(c.rec.joins.map((j) => j.channel), channels);
    for (const j of c.rec.joins) {
        assert.equal(j.type, 'ServerEventJoin');
        assert.equal(j.selector, 'cmd.onJoin');
        assertMeta(j.body, info, `join on ${j.channel}`);
        assert.equal(j.body.channels, channels.join(','));
        assert.equal('id' in j.body, false, 'Meta never carries the subscription id');
        assert.ok(j.eventId > 0);
    }
    // Frame order: onConnect, then A@, B@, C@cmd.onJoin.
    assert.deepEqual(c.rec.frames.slice(0, 4).map((f) => f.data.split(' ')[0]),
        ['cmd.onConnect', ...channels.map((ch) => `${ch}@cmd.onJoin`)]);
    await c.stop();
});

test('onJoin/onLeave between two clients; stop() POSTs unRegisterUrl and produces onLeave', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [X] = names('X');
    const c1 = s.open([X]);
    await c1.connected();
    await until(() => c1.rec.commands.length >= 1, 'own join');
    // §8.1 item 4: 1 connect, exactly 1 command (the own join), no messages, no errors.
    assert.equal(c1.rec.connects.length, 1);
    assert.equal(c1.rec.commands.length, 1);
    assert.equal(c1.rec.commands[0].type, 'ServerEventJoin');
    assert.equal(c1.rec.messages.length, 0);
    assert.deepEqual(c1.rec.errors, []);

    const c2 = s.open([X]);
    const info2 = await c2.connected();
    await until(() => c1.rec.joins.length >= 2, () => `join of client2 at client1 (joins: ${c1.rec.joins.length})`);
    const join = c1.rec.joins[1];
    assert.equal(join.channel, X);
    assert.equal(join.userId, info2.userId);
    assert.equal(join.displayName, info2.displayName);
    assert.equal(c1.rec.commands.length, 2);
    await until(() => c2.rec.joins.length >= 1, 'client2 own join');
    assert.equal(c2.rec.joins[0].userId, info2.userId, 'client2 gets exactly its own join, not client1s');
    assert.equal(c2.rec.joins.length, 1);

    const id2 = c2.id;
    await c2.stop();
    await until(() => c1.rec.leaves.length >= 1, 'leave of client2 at client1');
    const leave = c1.rec.leaves[0];
    assert.equal(leave.type, 'ServerEventLeave');
    assert.equal(leave.channel, X);
    assert.equal(leave.userId, info2.userId);
    assert.equal(leave.displayName, info2.displayName);
    assertMeta(leave.body, info2, 'leave');
    assert.equal(c1.rec.commands.length, 3);
    assert.deepEqual(c1.rec.errors, []);
    assert.deepEqual(c2.rec.errors, []);
    assert.equal(c1.rec.messages.length, 0);

    // The server forgot client2.
    assert.equal((await http('POST', `/event-heartbeat?id=${id2}`)).status, 404);
    const subs = await getSubscribers([X]);
    assert.deepEqual(subs.map((m) => m.userId), [c1.info.userId]);

    await c1.stop();
});

test('heartbeats: with the short server interval at least 3 onHeartbeat arrive', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [H] = names('H');
    const c = s.open([H]);
    const info = await c.connected();
    assert.equal(info.heartbeatIntervalMs, HEARTBEAT_MS);
    await until(() => c.rec.heartbeats.length >= 3,
        () => `3 heartbeats, have ${c.rec.heartbeats.length}`, Math.max(8_000, HEARTBEAT_MS * 8));
    for (const hb of c.rec.heartbeats) {
        assert.equal(hb.type, 'ServerEventHeartbeat');
        assert.equal(hb.selector, 'cmd.onHeartbeat');
        assert.equal(hb.channel, null, 'onHeartbeat has no channel@ prefix');
        assertMeta(hb.body, info, 'heartbeat');
        assert.equal(hb.body.channels, H);
        assert.equal('id' in hb.body, false);
    }
    // Heartbeats are system messages: no onMessage, no onCommand.
    assert.equal(c.rec.messages.length, 0);
    assert.equal(c.rec.commands.length, 1);
    assert.deepEqual(c.rec.errors, []);
    await c.stop();
});

test('heartbeat endpoint: GET and POST answer 200 for a live id, 404 for an unknown one', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [H] = names('H');
    const c = s.open([H]);
    const info = await c.connected();
    const hbs = c.rec.heartbeats.length;
    const post = await http('POST', info.heartbeatUrl, undefined, { 'Content-Type': 'text/plain' });
    assert.equal(post.status, 200);
    assert.equal(post.text, '');
    const get = await http('GET', info.heartbeatUrl);
    assert.equal(get.status, 200);
    await until(() => c.rec.heartbeats.length >= hbs + 2, 'an onHeartbeat for each of the two manual heartbeats');
    assert.equal((await http('POST', '/event-heartbeat?id=unknownunknownunknow')).status, 404);
    assert.equal((await http('GET', '/event-heartbeat?id=unknownunknownunknow')).status, 404);
    await c.stop();
});

test('stop(): unregisters, so the server answers 404 to that id afterwards', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [U] = names('U');
    const c = s.open([U]);
    const info = await c.connected();
    const { id, heartbeatUrl, unRegisterUrl } = info;
    assert.equal((await getSubscribers([U])).length, 1);
    await c.stop();
    assert.equal(c.client.hasConnected(), false);
    assert.deepEqual(c.rec.errors, []);
    assert.equal((await http('POST', heartbeatUrl)).status, 404, 'heartbeat after stop');
    assert.equal((await http('GET', `/event-heartbeat?id=${id}`)).status, 404, 'GET heartbeat after stop');
    const again = await http('POST', unRegisterUrl);
    assert.equal(again.status, 404, 'second unregister');
    assert.deepEqual(await getSubscribers([U]), []);
});

test('unregister endpoint: GET works too and answers the Meta as JSON (§1.3)', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [U] = names('U');
    const c1 = s.open([U]);
    const c2 = s.open([U]);
    const info1 = await c1.connected();
    const info2 = await c2.connected();
    // Unregister client2 behind its back with a GET (what the Java client does).
    const res = await http('GET', info2.unRegisterUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assertMeta(res.json, info2, 'unregister response');
    await until(() => c1.rec.leaves.some((l) => l.userId === info2.userId), 'leave at client1');
    assert.equal(c1.rec.leaves.length, 1);
    assert.equal(info1.userId !== info2.userId, true);
    await c1.stop();
    await c2.stop();
});
