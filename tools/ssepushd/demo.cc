#include "demo.h"

#include <string>

namespace ssepushd {

namespace eng = ssepush::engine;
using ssepush::proto::method;

namespace {

// The chat page: plain HTML, CSS and JavaScript, nothing loaded from elsewhere.
// Stable ids and data-testid attributes are what tests/browser drives.
const char k_page[] = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>ssepushd chat</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:15px/1.4 system-ui,sans-serif;color:#1e293b;background:#f1f5f9;height:100vh;
  display:grid;grid-template:auto 1fr/12rem 1fr 14rem}
header{grid-column:1/4;display:flex;align-items:baseline;gap:1rem;padding:.6rem 1rem;background:#1e293b;color:#f8fafc}
header h1{font-size:1.15rem;margin:0}#status{font-size:.85rem;color:#cbd5e1}
aside,main{padding:.75rem;min-height:0}aside{background:#fff;border-right:1px solid #e2e8f0}
#people{border-right:0;border-left:1px solid #e2e8f0;overflow:auto}
h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.05em;color:#64748b;margin:.2rem 0 .5rem}
ol,ul{list-style:none;margin:0;padding:0}
#channels button{width:100%;overflow-wrap:anywhere;text-align:left;border:0;background:none;padding:.3rem .5rem;border-radius:.3rem;font:inherit;cursor:pointer;color:inherit}
#channels button:hover{background:#f1f5f9}#channels button[aria-current="true"]{background:#2563eb;color:#fff}
#join-form{display:flex;gap:.3rem;margin-top:.6rem}#join-form input{min-width:0;flex:1}
main{display:flex;flex-direction:column;gap:.5rem}
#announce{background:#fef3c7;border:1px solid #f59e0b;border-radius:.3rem;padding:.4rem .6rem}
#log{flex:1;overflow:auto;background:#fff;border:1px solid #e2e8f0;border-radius:.3rem;padding:.5rem;overflow-wrap:anywhere}
#log li{padding:.12rem 0}.who{font-weight:600;margin-right:.4rem}
.notice{color:#64748b;font-style:italic;font-size:.9rem}.error{color:#b91c1c}
.mine .who{color:#2563eb}.private{background:#f5f3ff;border-left:3px solid #7c3aed;padding-left:.4rem!important}
.history{opacity:.7}.raw{color:#0f766e}
#chat-form{display:flex;gap:.5rem}#chat-input{flex:1}
input,button{font:inherit;padding:.35rem .5rem;border:1px solid #cbd5e1;border-radius:.3rem}
form button{background:#2563eb;color:#fff;border-color:#2563eb;cursor:pointer}
#users button{display:flex;align-items:center;gap:.4rem;width:100%;padding:.2rem;border:0;background:none;font:inherit;color:inherit;text-align:left;cursor:pointer}
#users button:hover{background:#f1f5f9}
#users img,.avatar{width:1.6rem;height:1.6rem;border-radius:50%;background:#cbd5e1;flex:none}
.refs{font-size:.75rem;color:#64748b}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (max-width:720px){body{grid-template:auto auto 1fr auto/1fr}header,aside,main{grid-column:1}}
</style></head>
<body>
<header><h1>ssepushd chat <span id="title-channel" data-testid="title-channel"></span></h1>
<span id="status" data-testid="status" role="status">connecting...</span>
<span id="me" data-testid="me"></span></header>
<aside><nav aria-label="Channels"><h2>Channels</h2><ul id="channels" data-testid="channels"></ul></nav>
<form id="join-form" data-testid="join-form"><label class="sr-only" for="join-channel">Join channel</label>
<input id="join-channel" data-testid="join-channel" placeholder="channel" autocomplete="off"><button>Join</button></form></aside>
<main><div id="announce" data-testid="announce" role="alert" hidden></div>
<ol id="log" data-testid="log" role="log" aria-live="polite" aria-label="Messages"></ol>
<form id="chat-form" data-testid="chat-form"><label class="sr-only" for="chat-input">Message</label>
<input id="chat-input" data-testid="chat-input" autocomplete="off"
 placeholder="message, @name message, @me message, /cmd.announce text">
<button id="send" data-testid="send">Send</button></form></main>
<aside id="people"><h2>Users</h2><ul id="users" data-testid="users" aria-label="Users in this channel"></ul></aside>
<script>
'use strict';
// ServiceStack Server Events with the native EventSource. A frame's data is
// "[channel@]op.target[$cssSelector] json"; cmd.onConnect gives the
// heartbeat URL and interval this page must honour.
const $ = id => document.getElementById(id);
const params = new URLSearchParams(location.search);
const channels = ['home', 'lobby', 'random'];
let channel = params.get('channel') || 'home';
let es = null, me = null, beat = null, lastPulse = 0, retry = 0, retryTimer = null;
let users = new Map(), usersSeq = 0, usersTimer = null, seen = new Set(), lastId = 0;

function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {}))
    if (k.startsWith('data-') || k.startsWith('aria-')) e.setAttribute(k, v); else e[k] = v;
  e.append(...kids); return e;
}
function add(entry, beforeId) {
  const log = $('log'), atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  let next = null;
  if (beforeId) for (const li of log.querySelectorAll('li[data-id]'))
    if (Number(li.dataset.id) > beforeId) { next = li; break; }
  log.insertBefore(entry, next);
  if (atEnd || !next) log.scrollTop = log.scrollHeight;
}
function notice(text, kind, extra) {
  add(el('li', Object.assign({ className: 'notice ' + (kind === 'error' ? 'error' : ''),
    'data-testid': 'notice', 'data-kind': kind }, extra || {}), text));
}
function chatEntry(m, fromHistory) {
  if (fromHistory && seen.has(m.id)) return;
  seen.add(m.id); lastId = Math.max(lastId, Number(m.id) || 0);
  const mine = me && m.fromUserId === me.userId;
  const li = el('li', { className: (mine ? 'mine ' : '') + (m.private ? 'private ' : '') + (fromHistory ? 'history' : ''),
    'data-testid': 'message', 'data-id': String(m.id), 'data-from': m.fromName || '',
    'data-private': String(!!m.private), 'data-history': String(!!fromHistory) },
    el('span', { className: 'who' }, (m.fromName || '?') + (m.private ? ' (private)' : '') + ':'),
    el('span', { className: 'text', 'data-testid': 'message-text' }, String(m.message ?? '')));
  add(li, fromHistory ? Number(m.id) : 0);
}
function parse(data) {
  const sp = data.indexOf(' ');
  let sel = sp < 0 ? data : data.slice(0, sp), ch = null, css = null;
  const json = sp < 0 ? '' : data.slice(sp + 1);
  const at = sel.indexOf('@');
  if (at >= 0) { ch = sel.slice(0, at); sel = sel.slice(at + 1); }
  const dollar = sel.indexOf('$');
  if (dollar >= 0) { css = sel.slice(dollar + 1); sel = sel.slice(0, dollar); }
  const dot = sel.indexOf('.');
  let body = null; try { body = json ? JSON.parse(json) : null; } catch (e) { body = json; }
  return { channel: ch, selector: sel, op: dot < 0 ? 'cmd' : sel.slice(0, dot),
           target: dot < 0 ? sel : sel.slice(dot + 1), cssSelector: css, body };
}

function setStatus(text, state) { $('status').textContent = text; document.body.dataset.state = state; }
function renderChannels() {
  if (!channels.includes(channel)) channels.push(channel);
  $('channels').replaceChildren(...channels.map(c => el('li', {}, el('button', {
    type: 'button', textContent: '#' + c, 'data-testid': 'channel-' + c, 'data-channel': c,
    'aria-current': String(c === channel), onclick: () => switchTo(c) }))));
  $('title-channel').textContent = '#' + channel;
  document.title = '#' + channel + ' - ssepushd chat';
}
function connect() {
  clearTimeout(retryTimer); clearInterval(beat); me = null;
  if (es) es.close();
  setStatus('connecting...', 'connecting');
  es = new EventSource('/event-stream?channels=' + encodeURIComponent(channel));
  es.onmessage = e => { lastPulse = Date.now(); retry = 0; handle(parse(e.data)); };
  es.onerror = () => {
    setStatus('reconnecting...', 'reconnecting');
    // EventSource retries by itself unless the server refused the stream.
    if (es.readyState === EventSource.CLOSED) restart();
  };
}
function restart() {
  clearInterval(beat); if (es) { es.close(); es = null; }
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, Math.min(500 * 2 ** retry++, 10000));
}
function heartbeat() {
  if (!me) return;
  if (Date.now() - lastPulse > Number(me.idleTimeoutMs || 30000)) return restart();
  const sub = me;  // a 404 for an older subscription must not end a newer one
  fetch(me.heartbeatUrl, { method: 'POST' })
    .then(r => { if (r.status === 404 && me === sub) restart(); }, () => {});
}
function leave() {
  if (me) navigator.sendBeacon(me.unRegisterUrl);
  me = null;
}
function switchTo(c) {
  if (c === channel) return;
  leave(); channel = c; seen = new Set(); lastId = 0; users = new Map();
  const url = new URL(location.href); url.searchParams.set('channel', c);
  history.replaceState(null, '', url);
  $('log').replaceChildren(); renderUsers(); renderChannels();
  connect();
}

function handle(m) {
  const b = m.body || {};
  switch (m.selector) {
  case 'cmd.onConnect':
    me = b; lastPulse = Date.now();
    $('me').textContent = 'you are ' + me.displayName;
    $('me').dataset.userId = me.userId; $('me').dataset.subscriptionId = me.id;
    setStatus('connected', 'connected');
    clearInterval(beat);
    beat = setInterval(heartbeat, Math.max(250, Number(me.heartbeatIntervalMs) || 10000));
    refreshUsers(); loadHistory(); return;
  case 'cmd.onJoin': case 'cmd.onLeave':
    if (m.channel !== channel) return;
    notice(`${b.displayName} ${m.selector === 'cmd.onJoin' ? 'joined' : 'left'} #${m.channel}`,
           m.selector === 'cmd.onJoin' ? 'join' : 'leave', { 'data-user': b.displayName || '' });
    return scheduleUsers();
  case 'cmd.onUpdate': return scheduleUsers();
  case 'cmd.onHeartbeat': return;
  case 'cmd.chat': return chatEntry(b, false);
  case 'cmd.announce': {
    const text = typeof m.body === 'string' ? m.body : JSON.stringify(m.body);
    $('announce').textContent = text; $('announce').hidden = false;
    return notice('announcement: ' + text, 'announce');
  }
  case 'cmd.toggle':
    if (m.cssSelector) try { document.querySelectorAll(m.cssSelector).forEach(e => e.hidden = !e.hidden); } catch (e) {}
    return;
  }
  if (m.op === 'css') {
    let targets = [document.body];
    try { if (m.cssSelector) targets = document.querySelectorAll(m.cssSelector); } catch (e) { targets = []; }
    return targets.forEach(t => t.style.setProperty(m.target, String(m.body ?? '')));
  }
  add(el('li', { className: 'raw', 'data-testid': 'raw', 'data-selector': m.selector },
         m.selector + ' ' + (m.body === null ? '' : JSON.stringify(m.body))));
}

function scheduleUsers() { clearTimeout(usersTimer); usersTimer = setTimeout(refreshUsers, 30); }
function refreshUsers() {
  const seq = ++usersSeq, ch = channel;
  fetch('/event-subscribers?channels=' + encodeURIComponent(ch)).then(r => r.json()).then(list => {
    if (seq !== usersSeq || ch !== channel) return;
    // One entry per user, however many subscriptions (tabs) it has.
    const merged = new Map();
    for (const u of list) {
      const prev = merged.get(u.userId);
      merged.set(u.userId, Object.assign({}, u, { refs: (prev ? prev.refs : 0) + 1 }));
    }
    users = merged; renderUsers();
  }, () => {});
}
function renderUsers() {
  $('users').replaceChildren(...[...users.values()].map(u => {
    const avatar = /^data:image\//.test(u.profileUrl || '')
      ? el('img', { src: u.profileUrl, alt: '' }) : el('span', { className: 'avatar' });
    const you = me && u.userId === me.userId;
    const pick = () => { $('chat-input').value = '@' + (you ? 'me' : u.displayName) + ' '; $('chat-input').focus(); };
    return el('li', { 'data-testid': 'user', 'data-user-id': u.userId, 'data-name': u.displayName,
      'data-refs': String(u.refs) }, el('button', { type: 'button', onclick: pick,
      title: 'private message to ' + u.displayName }, avatar, el('span', {}, u.displayName + (you ? ' (you)' : '')),
      u.refs > 1 ? el('span', { className: 'refs', title: u.refs + ' connections' }, '\u00d7' + u.refs) : ''));
  }));
}
function loadHistory() {
  const ch = channel;
  fetch(`/chathistory?channels=${encodeURIComponent(ch)}&afterId=${lastId}&take=50`)
    .then(r => r.json()).then(h => {
      if (ch === channel) for (const m of h.results || []) chatEntry(m, true);
    }, () => {});
}

function splitFirst(s) { const i = s.indexOf(' '); return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)]; }
async function send(text) {
  text = text.trim();
  if (!text) return;
  if (!me) return notice('not connected yet', 'error');
  const form = new URLSearchParams({ from: me.id });
  if (text[0] === '@') {
    const [name, rest] = splitFirst(text.slice(1));
    let to = null;
    if (name === 'me') to = me.userId;
    else for (const u of users.values()) if (u.displayName.toLowerCase() === name.toLowerCase()) { to = u.userId; break; }
    if (to === null) return notice(`no user @${name} in #${channel}`, 'error');
    form.set('toUserId', to); text = rest.trim();
    if (!text) return;
  }
  let path = 'chat';
  if (text[0] === '/') {
    const [selector, message] = splitFirst(text.slice(1));
    path = 'raw'; form.set('selector', selector);
    if (message) form.set('message', message);
  } else {
    form.set('selector', 'cmd.chat'); form.set('message', text);
  }
  try {
    const r = await fetch(`/channels/${encodeURIComponent(channel)}/${path}`, { method: 'POST', body: form });
    if (!r.ok) {
      const err = await r.json().catch(() => ({}));
      notice('send failed: ' + ((err.responseStatus || {}).message || r.status), 'error');
    }
  } catch (e) { notice('send failed: ' + e.message, 'error'); }
}

$('chat-form').onsubmit = ev => {
  ev.preventDefault(); const input = $('chat-input'); const text = input.value;
  input.value = ''; send(text);
};
$('join-form').onsubmit = ev => {
  ev.preventDefault(); const c = $('join-channel').value.trim();
  if (!c || /[@,\s]/.test(c) || c.length > 128)
    return notice('a channel name is 1-128 characters without spaces, "@" or ","', 'error');
  $('join-channel').value = ''; switchTo(c);
};
window.addEventListener('pagehide', leave);
window.addEventListener('pageshow', e => { if (e.persisted) connect(); });  // back from the bfcache
renderChannels(); renderUsers(); connect();
</script></body></html>
)HTML";

}  // namespace

void install_demo(eng::server& srv) {
    srv.route(eng::method_set::of({method::get}), "/",
              [](eng::exchange& ex) { ex.respond(200, "text/html; charset=utf-8", k_page); });
    srv.route(eng::method_set::of({method::get}), "/favicon.ico", [](eng::exchange& ex) {
        ex.respond(eng::response{204, {}, {}, "Cache-Control: max-age=86400\r\n", {}});
    });
    srv.route(eng::method_set::of({method::get}), "/stats", [&srv](eng::exchange& ex) {
        auto s = srv.stats();
        std::string j = "{\"open_connections\":" + std::to_string(s.open_connections) +
                        ",\"open_streams\":" + std::to_string(s.open_streams) +
                        ",\"accepted\":" + std::to_string(s.accepted) +
                        ",\"requests\":" + std::to_string(s.requests) +
                        ",\"frames_queued\":" + std::to_string(s.frames_queued) +
                        ",\"bytes_sent\":" + std::to_string(s.bytes_sent) +
                        ",\"frames_dropped\":" + std::to_string(s.frames_dropped) +
                        ",\"slow_consumer_closes\":" + std::to_string(s.slow_consumer_closes) +
                        "}\n";
        ex.respond(200, "application/json", j);
    });
}

}  // namespace ssepushd
