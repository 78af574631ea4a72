// Lifecycle: idle expiry of a subscription that stops heartbeating, the
// client reconnecting by itself after the server dropped its stream
// (ResetServerEvents), and errors reported through onException — PROTOCOL.md
// §5.5, §5.7, §6 and ServiceStack's TS suite (§8.1 items 7 and 21).
//
// ResetServerEvents forgets every subscription on the server, so this file
// runs last (run.sh runs the files one at a time, in name order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
    BASE,
    IDLE_MS,
    HEARTBEAT_MS,
    TEST_TIMEOUT,
    until,
    poke,
    names,
    session,
    http,
    postChat,
    getSubscribers,
    ResetServerEvents,
} from '../lib/harness.mjs';

test('idle expiry: a subscription without heartbeats is removed after idleTimeoutMs, with onLeave', { timeout: TEST_TIMEOUT + IDLE_MS }, async (t) => {
    const s = session(t);
    const [I] = names('I');
    const watcher = s.open([I]);
    await watcher.connected();

    // A bare EventSource: same stream, but nobody heartbeats it.
    const frames = [];
    const esErrors = [];
    const es = new EventSource(`${BASE}/event-stream?channels=${I}`);
    t.after(() => es.close());
    es.onmessage = (e) => {
        frames.push(e.data);
        poke();
    };
    es.onerror = (e) => {
        esErrors.push(e);
        poke();
    };
    const connectFrame = await until(() => frames.find((d) => d.startsWith('cmd.onConnect ')), 'onConnect on the bare stream');
    const connectedAt = Date.now();
    const silent = JSON.parse(connectFrame.slice('cmd.onConnect '.length));
    await until(() => watcher.rec.joins.some((j) => j.userId === silent.userId), 'join of the silent subscription');

    const leave = await until(() => watcher.rec.leaves.find((l) => l.userId === silent.userId),
        `onLeave of the silent subscription within idleTimeoutMs (${IDLE_MS}) + 6 s`, IDLE_MS + 6_000);
    const after = Date.now() - connectedAt;
    assert.ok(after >= IDLE_MS - 250, `expired after ${after} ms, not before idleTimeoutMs ${IDLE_MS}`);
    assert.equal(leave.channel, I);
    assert.equal((await http('POST', silent.heartbeatUrl)).status, 404, 'expired id is unknown');
    // The watcher, heartbeating all along, is still there.
    assert.deepEqual((await getSubscribers([I])).map((r) => r.userId), [watcher.info.userId]);
    // §5.4: an expired subscription's stream is closed (the EventSource sees the end).
    await until(() => esErrors.length >= 1 || es.readyState !== EventSource.OPEN, 'the expired stream is closed by the server');
    es.close();
    await watcher.stop();
});

test('reconnect: after ResetServerEvents drops every stream the client reconnects by itself and receives chat', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [R] = names('R');
    const c1 = s.open([R]);
    const first = await c1.connected();
    await postChat(c1, 'msg1 from client1', R);
    await until(() => c1.chats.length >= 1, 'msg1');

    const reset = await http('POST', '/reset-serverevents');
    assert.ok(reset.status === 204 || reset.status === 200, `reset answered ${reset.status}`);
    assert.equal((await http('POST', first.heartbeatUrl)).status, 404, 'old id forgotten by the reset');

    const c2 = s.open([R]);
    await c2.connected();
    // A new onConnect with a new id on client1, and a successful heartbeat on
    // that new subscription (so its current stream is the live one).
    const fresh = await until(() => {
        const n = c1.rec.connects.length;
        if (n < 2) return null;
        const last = c1.rec.connects[n - 1];
        if (last.id === first.id) return null;
        const at = c1.rec.frames.findIndex((f) => f.type === 'ServerEventConnect' && f.body.id === last.id);
        return c1.rec.frames.slice(at + 1).some((f) => f.type === 'ServerEventHeartbeat') ? last : null;
    }, () => `client1 reconnected (connects: ${c1.rec.connects.map((x) => x.id).join(',')}, errors: ${c1.rec.errors.length})`);
    assert.notEqual(fresh.id, first.id);
    assert.match(fresh.id, /^[A-Za-z0-9]{20}$/);
    assert.deepEqual(c1.client.channels, [R]);
    assert.equal(c1.client.getSubscriptionId(), fresh.id);
    assert.ok(c1.rec.errors.length >= 1, 'the dropped stream / 404 heartbeat was reported');

    await postChat(c2, 'msg2 from client2', R);
    await until(() => c1.chats.some((m) => JSON.parse(m.json).message === 'msg2 from client2'), 'msg2 at the reconnected client1');
    const subs = await getSubscribers([R]);
    assert.ok(subs.some((r) => r.userId === fresh.userId), 'the new subscription is listed');
    await c1.stop();
    await c2.stop();
    assert.equal((await http('POST', fresh.heartbeatUrl)).status, 404, 'stop() unregistered the new subscription');
});

function closedPort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

test('errors: an unreachable server and a 404 heartbeat after ResetServerEvents reach onException', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const port = await closedPort();
    const bad = s.open(['*'], { baseUrl: `http://127.0.0.1:${port}` });
    await until(() => bad.rec.errors.length >= 1, 'an error from the unreachable server');
    await bad.stop();

    const [E] = names('E');
    const c1 = s.open([E]);
    const c2 = s.open([E]);
    const info1 = await c1.connected();
    await c2.connected();
    assert.equal(info1.heartbeatIntervalMs, HEARTBEAT_MS);
    const n = c1.rec.errors.length;
    await c2.client.serviceClient.post(new ResetServerEvents());
    // The next heartbeat (every HEARTBEAT_MS) hits 404 before EventSource's own 1 s retry.
    const e404 = await until(() => c1.rec.errors.slice(n).find((e) => e instanceof Error && /^404\b/.test(e.message)),
        () => `a "404 - ..." heartbeat error, have ${c1.rec.errors.slice(n).map((e) => e?.message ?? e?.type).join(' | ')}`);
    assert.ok(e404);
    await until(() => c1.rec.connects.length >= 2 && c2.rec.connects.length >= 2, 'both clients reconnected');
    await c1.stop();
    await c2.stop();
});
