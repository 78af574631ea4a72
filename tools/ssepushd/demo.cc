#include "demo.h"

#include <string>

namespace ssepushd {

namespace eng = ssepush::engine;
using ssepush::proto::method;

namespace {

const char k_page[] = R"HTML(<!doctype html>
<html><head><meta charset="utf-8"><title>ssepushd chat</title>
<style>
body{font:15px system-ui,sans-serif;max-width:52rem;margin:1.5rem auto;display:grid;grid-template-columns:1fr 14rem;gap:1rem}
h1{grid-column:1/3;margin:0}#log{height:26rem;overflow:auto;border:1px solid #ccc;padding:.5rem;font:13px monospace}
#users{border:1px solid #ccc;padding:.5rem;font-size:13px}form{grid-column:1/2;display:flex;gap:.5rem}input{flex:1}
.sys{color:#888}.me{color:#06c}
</style></head>
<body><h1>ssepushd chat <small id="st" class="sys">connecting...</small></h1>
<div id="log"></div><div id="users"><b>#home</b><div id="list"></div></div>
<form id="f"><input id="m" placeholder="say something (or /cmd.announce text)" autocomplete="off"><button>send</button></form>
<script>
// A ServiceStack frame's data is "[channel@]op.target json"; cmd.onConnect
// carries the heartbeat URL and interval, which a client must honour.
const log = document.getElementById('log'), st = document.getElementById('st');
let me = null, beat = null;
function add(text, cls) { const d = document.createElement('div'); d.textContent = text;
  if (cls) d.className = cls; log.appendChild(d); log.scrollTop = log.scrollHeight; }
function parse(data) {
  const sp = data.indexOf(' '); let sel = sp < 0 ? data : data.slice(0, sp);
  const json = sp < 0 ? '' : data.slice(sp + 1); let channel = null;
  const at = sel.indexOf('@'); if (at >= 0) { channel = sel.slice(0, at); sel = sel.slice(at + 1); }
  let body = null; try { body = json ? JSON.parse(json) : null; } catch (e) {}
  return { channel, selector: sel, body };
}
function users() {
  fetch('/event-subscribers?channel=home').then(r => r.json()).then(list => {
    const names = [...new Set(list.map(u => u.displayName))];
    document.getElementById('list').textContent = names.join(', ');
  });
}
const es = new EventSource('/event-stream?channels=home');
es.onmessage = e => {
  const m = parse(e.data);
  if (m.selector === 'cmd.onConnect') {
    me = m.body; st.textContent = 'connected as ' + me.displayName;
    clearInterval(beat);
    beat = setInterval(() => fetch(me.heartbeatUrl, { method: 'POST' }).then(r => {
      if (!r.ok) { st.textContent = 'reconnecting...'; }
    }), parseInt(me.heartbeatIntervalMs));
    users();
  } else if (m.selector === 'cmd.onJoin') { add(m.body.displayName + ' joined #' + m.channel, 'sys'); users(); }
  else if (m.selector === 'cmd.onLeave') { add(m.body.displayName + ' left #' + m.channel, 'sys'); users(); }
  else if (m.selector === 'cmd.onHeartbeat' || m.selector === 'cmd.onUpdate') {}
  else if (m.selector === 'cmd.chat') add(m.body.fromName + ': ' + m.body.message,
                                          me && m.body.fromUserId === me.userId ? 'me' : '');
  else add(m.selector + ' ' + JSON.stringify(m.body), 'sys');
};
es.onerror = () => { st.textContent = 'reconnecting...'; };
window.addEventListener('pagehide', () => { if (me) navigator.sendBeacon(me.unRegisterUrl); });
document.getElementById('f').onsubmit = ev => {
  ev.preventDefault(); const input = document.getElementById('m'); const text = input.value;
  input.value = ''; if (!me || !text) return;
  const raw = text.startsWith('/') ? text.slice(1) : null;
  const form = new URLSearchParams({ from: me.id });
  if (raw) { const sp = raw.indexOf(' '); form.set('selector', sp < 0 ? raw : raw.slice(0, sp));
             if (sp >= 0) form.set('message', raw.slice(sp + 1)); }
  else { form.set('message', text); form.set('selector', 'cmd.chat'); }
  fetch('/channels/home/' + (raw ? 'raw' : 'chat'), { method: 'POST', body: form });
};
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
