// Messages and how the client dispatches them: chat via the chat services,
// handlers, channel@selector routing, named and global receivers, raw
// selectors with css targets, and trigger listeners — PROTOCOL.md §2, §4, §9
// and ServiceStack's TS suite (§8.1 items 5, 8–13, 20).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
    BASE,
    TEST_TIMEOUT,
    until,
    names,
    session,
    http,
    barrier,
    postChat,
    postRaw,
    postObject,
    JsonServiceClient,
    GetEventSubscribers,
    PostChatToChannel,
} from '../lib/harness.mjs';

function assertChat(chat, from, text, channel) {
    assert.equal(typeof chat.id, 'number', 'ChatMessage.id is a JSON number');
    assert.ok(chat.id > 0, `ChatMessage.id ${chat.id} > 0`);
    assert.equal(chat.fromUserId, from.userId, 'fromUserId = sender userId');
    assert.equal(chat.fromName, from.displayName, 'fromName = sender displayName');
    assert.equal(chat.message, text);
    assert.equal(chat.private, false);
    if (channel !== undefined) assert.equal(chat.channel, channel);
}

test('messages: a chat reaches both clients of the channel, once each, with the sender identity', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [M] = names('M');
    const c1 = s.open([M]);
    const c2 = s.open([M]);
    const info1 = await c1.connected();
    const info2 = await c2.connected();

    const reply1 = await postChat(c1, 'hello from client1', M);
    assertChat(reply1, info1, 'hello from client1', M);
    await until(() => c1.chats.length >= 1 && c2.chats.length >= 1, 'first chat at both clients');
    for (const c of [c1, c2]) {
        const m = c.chats[0];
        assert.ok(m.eventId > 0, `eventId ${m.eventId} > 0`);
        assert.equal(m.selector, 'cmd.chat');
        assert.equal(m.channel, M, 'channel from the M@ prefix');
        assert.ok(m.data.startsWith(`${M}@cmd.chat {`), `frame data: ${m.data.slice(0, 60)}`);
        const chat = JSON.parse(m.json);
        assertChat(chat, info1, 'hello from client1', M);
        assert.equal(chat.id, reply1.id, 'the delivered message is the one the service returned');
    }

    const reply2 = await postChat(c2, 'hello from client2', M);
    await until(() => c1.chats.length >= 2 && c2.chats.length >= 2, 'second chat at both clients');
    for (const c of [c1, c2]) {
        const chat = JSON.parse(c.chats[1].json);
        assertChat(chat, info2, 'hello from client2', M);
        assert.equal(chat.id, reply2.id);
        assert.ok(c.chats[1].eventId > c.chats[0].eventId, 'event ids grow on one stream');
    }
    assert.ok(reply2.id > reply1.id, 'chat ids grow');

    await barrier(c1, M, [c1, c2]);
    assert.equal(c1.chats.length, 2, 'exactly two chats at client1');
    assert.equal(c2.chats.length, 2, 'exactly two chats at client2');
    assert.deepEqual(c1.rec.errors, []);
    await c1.stop();
    await c2.stop();
});

test('messages: channel "*" and the other routes of PostChatToChannel (/channels/{Channel}/chat, /json/reply/)', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [R] = names('R');
    const star = s.open(['*']);
    const c = s.open([R]);
    const infoStar = await star.connected();
    const info = await c.connected();

    // Through the JsonServiceClient: /api/PostChatToChannel with channel "*".
    await postChat(star, 'to star via api', '*');
    await until(() => star.chats.length >= 1, 'chat on *');
    assert.equal(star.chats[0].channel, '*');
    assertChat(JSON.parse(star.chats[0].json), infoStar, 'to star via api', '*');

    // The [Route] form, "*" travelling as %2A (what the C# client does).
    const routed = await http('POST', '/channels/%2A/chat', { from: star.id, message: 'to star via route', selector: 'cmd.chat' });
    assert.equal(routed.status, 200, routed.text);
    assertChat(routed.json, infoStar, 'to star via route', '*');
    await until(() => star.chats.length >= 2, 'routed chat on *');
    assert.equal(JSON.parse(star.chats[1].json).message, 'to star via route');

    // Route with a form body (jQuery-style), to a named channel.
    const form = await http('POST', `/channels/${encodeURIComponent(R)}/chat`,
        `from=${c.id}&message=${encodeURIComponent('form body')}&selector=cmd.chat`,
        { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 200, form.text);
    await until(() => c.chats.length >= 1, 'form-posted chat');
    assertChat(JSON.parse(c.chats[0].json), info, 'form body', R);

    // The pre-2.0.17 client base path /json/reply/.
    const legacy = new JsonServiceClient(BASE).useBasePath('');
    await legacy.post(new PostChatToChannel({ from: c.id, message: 'legacy path', channel: R, selector: 'cmd.chat' }));
    await until(() => c.chats.length >= 2, 'chat via /json/reply/');
    assert.equal(JSON.parse(c.chats[1].json).message, 'legacy path');
    const subs = await legacy.get(Object.assign(new GetEventSubscribers(), { channels: [R] }));
    assert.deepEqual(subs.map((m) => m.userId), [info.userId]);

    // Channel isolation: nothing sent to R reached the "*" client and vice versa.
    await barrier(star, '*');
    await barrier(c, R);
    assert.equal(star.chats.length, 2);
    assert.equal(c.chats.length, 2);

    // An unknown sender is refused.
    const bad = await http('POST', '/api/PostChatToChannel', { from: 'nosuchsubscription00', channel: R, message: 'x', selector: 'cmd.chat' });
    assert.equal(bad.status, 404);
    await star.stop();
    await c.stop();
});

test('handlers.chat receives the ChatMessage body, with channel@selector routing on the event', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [C] = names('C');
    const got = [];
    const c = s.open([C], { handlers: { chat: (msg, e) => got.push({ msg, e }) } });
    const info = await c.connected();

    await postChat(c, 'msg1', C);
    await until(() => got.length >= 1, 'msg1 at handlers.chat');
    assertChat(got[0].msg, info, 'msg1', C);
    const e = got[0].e;
    assert.equal(e.channel, C);
    assert.equal(e.selector, 'cmd.chat');
    assert.equal(e.op, 'cmd');
    assert.equal(e.target, 'chat');
    assert.equal(e.type, 'ServerEventMessage');
    assert.ok(e.data.startsWith(`${C}@cmd.chat `));

    await postChat(c, 'msg2', C);
    await until(() => got.length >= 2, 'msg2 at handlers.chat');
    assert.equal(got[1].msg.message, 'msg2');
    assert.equal(got.length, 2);
    await c.stop();
});

test('handlers.announce receives the plain string of a raw cmd.announce', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [C] = names('C');
    const got = [];
    const c = s.open([C], { handlers: { announce: (msg, e) => got.push({ msg, e }) } });
    await c.connected();
    await postRaw(c, 'cmd.announce', 'msg1', C);
    await until(() => got.length >= 1, 'msg1');
    assert.equal(got[0].msg, 'msg1');
    assert.equal(got[0].e.json, '"msg1"', 'a raw string travels as a JSON string');
    await postRaw(c, 'cmd.announce', 'msg2 "quoted" \\ ünïcødé', C);
    await until(() => got.length >= 2, 'msg2');
    assert.equal(got[1].msg, 'msg2 "quoted" \\ ünïcødé');
    await c.stop();
});

class NamedReceiver {
    constructor() {
        this.quxSetter = undefined; // a settable property
        this.calls = [];
        this.noSuch = [];
    }
    fooMethod(body, request) {
        this.calls.push({ method: 'fooMethod', body, request });
    }
    barMethod(body, request) {
        this.calls.push({ method: 'barMethod', body, request });
    }
    noSuchMethod(selector, request) {
        this.noSuch.push({ selector, body: request.body });
    }
}

test('named receiver "test": test.fooMethod / barMethod / BazMethod (noSuchMethod) / quxSetter', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [N] = names('N');
    const test_ = new NamedReceiver();
    const c = s.open([N], { receivers: { test: test_ } });
    await c.connected();
    const count = () => c.rec.messages.filter((m) => m.op === 'test').length;

    await postObject(c, { customType: { id: 1, name: 'Foo' }, selector: 'test.fooMethod' }, N);
    await until(() => count() >= 1, 'test.fooMethod');
    assert.equal(test_.calls[0].method, 'fooMethod');
    assert.deepEqual(test_.calls[0].body, { id: 1, name: 'Foo' }, 'object body with camelCase keys');
    assert.equal(test_.calls[0].request.channel, N);
    assert.equal(test_.calls[0].request.op, 'test');

    // Case-insensitive fallback of the client.
    await postObject(c, { customType: { id: 2, name: 'Bar' }, selector: 'test.BarMethod' }, N);
    await until(() => count() >= 2, 'test.BarMethod');
    assert.equal(test_.calls[1].method, 'barMethod');
    assert.deepEqual(test_.calls[1].body, { id: 2, name: 'Bar' });

    await postObject(c, { customType: { id: 3, name: 'Baz' }, selector: 'test.BazMethod' }, N);
    await until(() => count() >= 3, 'test.BazMethod');
    const baz = test_.noSuch.find((x) => x.selector === 'BazMethod');
    assert.ok(baz, `noSuchMethod called with "BazMethod" (got ${JSON.stringify(test_.noSuch.map((x) => x.selector))})`);
    assert.deepEqual(baz.body, { id: 3, name: 'Baz' });

    await postObject(c, { customType: { id: 4, name: 'Qux' }, selector: 'test.quxSetter' }, N);
    await until(() => count() >= 4, 'test.quxSetter');
    assert.deepEqual(test_.quxSetter, { id: 4, name: 'Qux' });

    // PostRawToChannel to a named receiver: the body is the string.
    await postRaw(c, 'test.fooMethod', 'raw string', N);
    await until(() => count() >= 5, 'raw test.fooMethod');
    assert.equal(test_.calls.at(-1).method, 'fooMethod');
    assert.equal(test_.calls.at(-1).body, 'raw string');
    assert.equal(test_.calls.length, 3);
    await c.stop();
});

class GlobalReceiver {
    constructor() {
        this.SetterType = undefined;
        this.customTypes = [];
    }
    CustomType(body, request) {
        this.customTypes.push({ body, request });
    }
}

test('global receiver: cmd.CustomType calls a method, cmd.SetterType sets a property (no selector given)', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [G] = names('G');
    const r = new GlobalReceiver();
    const c = s.open([G], { start: false });
    c.client.registerReceiver(r);
    c.start();
    await c.connected();

    await postObject(c, { customType: { id: 1, name: 'Foo' } }, G);
    await until(() => r.customTypes.length >= 1, 'CustomType() called');
    assert.deepEqual(r.customTypes[0].body, { id: 1, name: 'Foo' });
    assert.equal(r.customTypes[0].request.selector, 'cmd.CustomType');
    assert.equal(r.customTypes[0].request.channel, G);

    await postObject(c, { setterType: { id: 2, name: 'Bar' } }, G);
    await until(() => r.SetterType !== undefined, 'SetterType set');
    assert.deepEqual(r.SetterType, { id: 2, name: 'Bar' });
    const sel = c.rec.messages.map((m) => m.selector);
    assert.deepEqual(sel, ['cmd.CustomType', 'cmd.SetterType']);
    await c.stop();
});

class JsReceiver {
    constructor() {
        this.log = [];
    }
    chat(body, request) {
        this.log.push({ m: 'chat', body, request });
    }
    announce(body, request) {
        this.log.push({ m: 'announce', body, request });
    }
    toggle(body, request) {
        this.log.push({ m: 'toggle', body, request });
    }
    backgroundImage(body, request) {
        this.log.push({ m: 'backgroundImage', body, request });
    }
}

test('raw messages: chat, cmd.announce, cmd.toggle$#channels with a null body, css.background-image$#top', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [W] = names('W');
    const global = new JsReceiver();
    const cssReceiver = new JsReceiver();
    const c = s.open([W], { receivers: { css: cssReceiver }, start: false });
    c.client.registerReceiver(global);
    c.start();
    const info = await c.connected();
    const seen = (m) => global.log.concat(cssReceiver.log).find((x) => x.m === m);

    await postChat(c, 'chat msg', W);
    const chat = await until(() => seen('chat'), 'chat() on the global receiver');
    assertChat(chat.body, info, 'chat msg', W);

    await postRaw(c, 'cmd.announce', 'This is your captain speaking...', W);
    const ann = await until(() => seen('announce'), 'announce()');
    assert.equal(ann.body, 'This is your captain speaking...');

    await postRaw(c, 'cmd.toggle$#channels', null, W);
    const tog = await until(() => seen('toggle'), 'toggle()');
    assert.equal(tog.body, null, 'null message -> null body');
    assert.equal(tog.request.selector, 'cmd.toggle$#channels');
    assert.equal(tog.request.op, 'cmd');
    assert.equal(tog.request.target, 'toggle');
    assert.equal(tog.request.cssSelector, '#channels');
    assert.equal(tog.request.channel, W);
    // PROTOCOL §2.1: a single space after the selector even when the body is empty.
    assert.equal(tog.request.data, `${W}@cmd.toggle$#channels `, 'frame data is "<sel> " with an empty body');

    await postRaw(c, 'css.background-image$#top', 'url(http://bit.ly/1yIJOBH)', W);
    const bg = await until(() => seen('backgroundImage'), 'backgroundImage() on the css receiver');
    assert.equal(bg.body, 'url(http://bit.ly/1yIJOBH)');
    assert.equal(bg.request.selector, 'css.background-image$#top');
    assert.equal(bg.request.op, 'css');
    assert.equal(bg.request.target, 'background-image');
    assert.equal(bg.request.cssSelector, '#top');
    assert.deepEqual(c.rec.errors, []);
    await c.stop();
});

test('trigger.customEvent fires every addListener listener; a removed listener stops firing', { timeout: TEST_TIMEOUT }, async (t) => {
    const s = session(t);
    const [T] = names('T');
    const msgs1 = [];
    const msgs2 = [];
    const handler = (e) => msgs1.push(e);
    const c1 = s.open([T], { start: false });
    c1.client.addListener('customEvent', handler).addListener('customEvent', (e) => msgs2.push(e));
    c1.start();
    const c2 = s.open([T]);
    await c1.connected();
    await c2.connected();

    await postRaw(c2, 'trigger.customEvent', 'arg', T);
    await until(() => msgs1.length >= 1 && msgs2.length >= 1, 'both listeners fired');
    assert.equal(msgs1.length, 1);
    assert.equal(msgs2.length, 1);
    assert.equal(msgs1[0].op, 'trigger');
    assert.equal(msgs1[0].target, 'customEvent');
    assert.equal(msgs1[0].channel, T);

    c1.client.removeListener('customEvent', handler);
    await postRaw(c2, 'trigger.customEvent', 'arg', T);
    await until(() => msgs2.length >= 2, 'remaining listener fired again');
    assert.equal(msgs1.length, 1, 'removed listener did not fire');
    assert.ok([...msgs1, ...msgs2].every((x) => JSON.parse(x.json) === 'arg'));
    await c1.stop();
    await c2.stop();
});
