// Shared helpers for the compatibility tests: the unmodified ServiceStack
// TypeScript client (@servicestack/client) talking to a running ssepushd.
//
// run.sh starts the server and passes it in through the environment:
//   SSEPUSH_BASE_URL      e.g. http://127.0.0.1:40123 (no trailing slash)
//   SSEPUSH_HEARTBEAT_MS  the --heartbeat-interval-ms the server was given
//   SSEPUSH_IDLE_MS       the --idle-timeout-ms the server was given
//
// Nothing here sleeps for a fixed time: every wait is `until(predicate)`,
// re-evaluated whenever any client processes a frame or reports an error,
// with a deadline that only turns a hang into a readable failure.
import EventSource from 'eventsource';
import {
    ServerEventsClient,
    JsonServiceClient,
    GetEventSubscribers,
} from '@servicestack/client';

// The client creates `new EventSource(url, { withCredentials })` and compares
// readyState against the global EventSource.CLOSED, so the polyfill must be
// global before the first client starts.
globalThis.EventSource = EventSource;

export { ServerEventsClient, JsonServiceClient, GetEventSubscribers };

function env(name) {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run the tests through tests/compat/run.sh`);
    return v;
}

export const BASE = env('SSEPUSH_BASE_URL').replace(/\/+$/, '');
export const HEARTBEAT_MS = Number(env('SSEPUSH_HEARTBEAT_MS'));
export const IDLE_MS = Number(env('SSEPUSH_IDLE_MS'));

// Per-test deadline (node:test `timeout`) and the default deadline of one wait.
export const TEST_TIMEOUT = 20_000;
export const WAIT_MS = 8_000;

// ---------------------------------------------------------------------------
// Waiting on conditions

const waiters = new Set();

/** Re-check every pending `until`. Called after each frame and each error. */
export function poke() {
    for (const w of [...waiters]) w.check();
}

/**
 * Resolves with pred()'s value once it is truthy. `what` names the condition
 * (a string, or a function returning one, evaluated at timeout to show state).
 */
export function until(pred, what, ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
        let timer;
        const done = () => {
            clearTimeout(timer);
            waiters.delete(w);
        };
        const w = {
            check() {
                let v;
                try {
                    v = pred();
                } catch (e) {
                    done();
                    reject(e);
                    return;
                }
                if (v) {
                    done();
                    resolve(v);
                }
            },
        };
        timer = setTimeout(() => {
            done();
            const desc = typeof what === 'function' ? what() : what;
            reject(new Error(`timed out after ${ms} ms waiting for: ${desc}`));
        }, ms);
        waiters.add(w);
        w.check();
    });
}

// ---------------------------------------------------------------------------
// Unique channel names, so no test can see another test's traffic.

let seq = 0;
const run_tag = Math.random().toString(36).slice(2, 6);

/** names('A','B') -> ['A_k3f9_1', 'B_k3f9_1'] (one suffix per call). */
export function names(...bases) {
    const n = ++seq;
    return bases.map((b) => `${b}_${run_tag}_${n}`);
}

// ---------------------------------------------------------------------------
// Recording clients

/**
 * One ServerEventsClient plus everything it saw. `rec.frames` holds every
 * parsed frame in arrival order (captured with the client's `validate` hook,
 * which sees each message before dispatch); the other arrays hold what the
 * client's own callbacks delivered.
 */
export class Recorder {
    constructor(channels, opts = {}) {
        const { handlers = {}, receivers, resolver, baseUrl = BASE, start = true } = opts;
        this.rec = {
            frames: [],
            connects: [], // connectionInfo objects given to onConnect
            connectRequests: [], // the raw request (body = JSON as sent) of each onConnect
            joins: [],
            leaves: [],
            updates: [],
            heartbeats: [],
            commands: [], // onCommand: joins, leaves, updates
            messages: [], // onMessage: every non-system message
            errors: [],
            reconnects: [],
        };
        const rec = this.rec;
        const user = handlers;
        const wrap = (name, push) =>
            function (...args) {
                push(...args);
                const fn = user[name];
                if (fn) return fn.apply(this, args);
            };
        const all = { ...user };
        all.onConnect = wrap('onConnect', (info, request) => {
            rec.connects.push(info);
            rec.connectRequests.push(request);
        });
        all.onJoin = wrap('onJoin', (e) => rec.joins.push(e));
        all.onLeave = wrap('onLeave', (e) => rec.leaves.push(e));
        all.onUpdate = wrap('onUpdate', (e) => rec.updates.push(e));
        // onHeartbeat is called with (body, request): keep the request (body inside).
        all.onHeartbeat = wrap('onHeartbeat', (body, request) => rec.heartbeats.push(request));
        all.onCommand = wrap('onCommand', (e) => rec.commands.push(e));
        all.onMessage = wrap('onMessage', (e) => rec.messages.push(e));
        const options = {
            handlers: all,
            validate: (request) => {
                rec.frames.push(request);
                return true;
            },
            onException: (e) => {
                rec.errors.push(e);
                poke();
            },
            onReconnect: (e) => {
                rec.reconnects.push(e);
                poke();
            },
            onTick: poke,
        };
        if (receivers) options.receivers = receivers;
        if (resolver) options.resolver = resolver;
        this.client = new ServerEventsClient(baseUrl, channels, options);
        if (start) this.client.start();
    }

    start() {
        this.client.start();
        return this;
    }

    /** Resolves with the first connectionInfo. */
    connected(ms) {
        return until(() => this.rec.connects[0], 'onConnect', ms);
    }

    get info() {
        return this.client.getConnectionInfo();
    }

    get id() {
        return this.client.getSubscriptionId();
    }

    /** Non-system messages whose selector is `selector` (barriers excluded). */
    received(selector) {
        return this.rec.messages.filter((m) => m.selector === selector);
    }

    /** cmd.chat messages received (as the client's onMessage gave them). */
    get chats() {
        return this.received('cmd.chat');
    }

    stop() {
        return this.client.stop();
    }
}

/**
 * Clients of one test; `t.after` stops whatever the test did not stop itself
 * (a failing test must not leave streams open for the next one).
 */
export function session(t) {
    const clients = [];
    t.after(async () => {
        await Promise.all(clients.map((c) => c.stop()));
    });
    return {
        open(channels, opts) {
            const c = new Recorder(channels, opts);
            clients.push(c);
            return c;
        },
    };
}

// ---------------------------------------------------------------------------
// Request DTOs of the chat services (PROTOCOL.md §9), as the client's
// JsonServiceClient expects them: it posts to {base}/api/{getTypeName()}.

class Dto {
    constructor(init) {
        Object.assign(this, init);
    }
}
export class PostChatToChannel extends Dto {
    getTypeName() {
        return 'PostChatToChannel';
    }
    createResponse() {
        return {};
    }
}
export class PostRawToChannel extends Dto {
    getTypeName() {
        return 'PostRawToChannel';
    }
    createResponse() {}
}
export class PostObjectToChannel extends Dto {
    getTypeName() {
        return 'PostObjectToChannel';
    }
    createResponse() {}
}
export class ResetServerEvents extends Dto {
    getTypeName() {
        return 'ResetServerEvents';
    }
    createResponse() {}
}

/** PostChatToChannel from `c`'s subscription, through the client's own JsonServiceClient. */
export function postChat(c, message, channel) {
    return c.client.serviceClient.post(
        new PostChatToChannel({ from: c.id, message, channel, selector: 'cmd.chat' }),
    );
}

/** PostRawToChannel: the string (or null) `message` under `selector`. */
export function postRaw(c, selector, message, channel) {
    return c.client.serviceClient.post(
        new PostRawToChannel({ from: c.id, message, channel, selector }),
    );
}

/** PostObjectToChannel with customType (or setterType) and an optional selector. */
export function postObject(c, fields, channel) {
    return c.client.serviceClient.post(new PostObjectToChannel({ channel, ...fields }));
}

// ---------------------------------------------------------------------------
// Barriers: frames to one subscription arrive in the order they were
// published, so once a marker published after X has arrived, X has arrived too
// if it was ever going to. This turns "must NOT receive" into a wait on a
// condition instead of a sleep.

let barrier_seq = 0;

/** Publishes `barrier.sync "<token>"` on `channel` (sent by `c`) and waits until every
 *  client in `waiters_` received it. */
export async function barrier(c, channel, waiters_ = [c]) {
    const token = `b${++barrier_seq}`;
    await postRaw(c, 'barrier.sync', token, channel);
    await until(
        () => waiters_.every((w) => w.rec.frames.some((f) => f.selector === 'barrier.sync' && f.body === token)),
        `barrier ${token} on ${channel}`,
    );
}

// ---------------------------------------------------------------------------
// Plain HTTP

/** fetch relative to BASE (or an absolute URL); resolves with {status, text, json, headers}. */
export async function http(method, pathOrUrl, body, headers = {}) {
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : BASE + pathOrUrl;
    const init = { method, headers };
    if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        if (typeof body !== 'string' && !headers['Content-Type'])
            init.headers = { 'Content-Type': 'application/json', ...headers };
    }
    const res = await fetch(url, init);
    const text = await res.text();
    let json;
    try {
        json = text ? JSON.parse(text) : undefined;
    } catch {
        json = undefined;
    }
    return { status: res.status, statusText: res.statusText, text, json, headers: res.headers };
}

/** GET /api/GetEventSubscribers with the channels, as JsonServiceClient does it. */
export function getSubscribers(channels) {
    const req = new GetEventSubscribers();
    req.channels = channels;
    return new JsonServiceClient(BASE).get(req);
}
