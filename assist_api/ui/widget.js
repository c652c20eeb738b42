/* 星联客服 web chat widget: embed with one tag,
 *   <script src="https://HOST/ui/widget.js" data-customer-id="optional" data-open="false" async></script>
 * Vanilla JS, no dependencies, rendered in a shadow root so the host page's CSS cannot break it.
 * Message text is always set with textContent (never parsed as HTML).
 * The conversation (customer id, conversation id, stream token, last message id) is kept in
 * localStorage, so a reload shows the same conversation; agent messages arrive over server-sent
 * events, resumed from the last seen message id after any disconnect.
 */
(function () {
  "use strict";
  if (window.CSWidget) return;
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var BASE = new URL(script.src, location.href).origin;
  var STORE_KEY = "cs-widget:" + BASE;
  var SENDERS = { bot: "智能助手", agent: "人工客服", system: "系统消息", customer: "我" };
  var STATE_TEXT = {
    bot: "智能助手在线",
    queued: "正在为您转接人工客服，请稍候",
    agent: "人工客服为您服务中",
    closed: "本次服务已结束"
  };
  var WELCOME = "您好，我是星联智能客服，请问有什么可以帮您？您可以直接输入问题，或输入“转人工”联系人工客服。";

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;",
    "background:#1d5fd1;color:#fff;font-size:16px;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #ffb300;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:370px;height:600px;max-height:calc(100vh - 40px);",
    "display:flex;flex-direction:column;background:#f5f7fa;border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3)}",
    ".panel[hidden],.launcher[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:#1d5fd1;color:#fff}",
    "header h2{margin:0;font-size:16px;font-weight:600}",
    "header .status{font-size:12px;opacity:.9;flex:1}",
    "header button{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px}",
    ".conn{background:#fff3cd;color:#7a5a00;font-size:12px;padding:4px 12px}",
    ".conn[hidden]{display:none}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px}",
    ".msg{display:flex;flex-direction:column;max-width:85%}",
    ".msg .who{font-size:11px;color:#667;margin:0 4px 2px}",
    ".bubble{padding:9px 12px;border-radius:12px;font-size:14px;line-height:1.5;white-space:pre-wrap;word-break:break-word}",
    ".msg.customer{align-self:flex-end;align-items:flex-end}",
    ".msg.customer .bubble{background:#1d5fd1;color:#fff;border-bottom-right-radius:4px}",
    ".msg.bot .bubble{background:#fff;color:#1f2933;border-bottom-left-radius:4px;box-shadow:0 1px 2px rgba(0,0,0,.08)}",
    ".msg.agent .bubble{background:#e7f6ec;color:#14351f;border-bottom-left-radius:4px;box-shadow:0 1px 2px rgba(0,0,0,.08)}",
    ".msg.system{align-self:center;max-width:95%}",
    ".msg.system .bubble{background:#eef1f6;color:#445;font-size:13px}",
    ".msg.failed .bubble{opacity:.6}",
    ".retry{font-size:12px;color:#b42318;background:none;border:0;cursor:pointer;text-decoration:underline}",
    ".buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".buttons button{border:1px solid #1d5fd1;background:#fff;color:#1d5fd1;border-radius:16px;padding:5px 12px;font-size:13px;cursor:pointer;min-height:32px}",
    ".buttons button:hover{background:#eaf1ff}",
    ".buttons button:disabled{opacity:.5;cursor:default}",
    ".typing{align-self:flex-start;background:#fff;border-radius:12px;padding:10px 14px;display:flex;gap:4px;align-items:center}",
    ".typing[hidden]{display:none}",
    ".typing span.dot{width:6px;height:6px;border-radius:3px;background:#99a;animation:b 1s infinite}",
    ".typing span.dot:nth-child(2){animation-delay:.15s}.typing span.dot:nth-child(3){animation-delay:.3s}",
    "@keyframes b{0%,80%,100%{opacity:.3}40%{opacity:1}}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "form{display:flex;gap:8px;padding:10px;background:#fff;border-top:1px solid #e3e7ee}",
    "textarea{flex:1;resize:none;border:1px solid #cbd2dc;border-radius:8px;padding:8px;font-size:14px;height:40px;max-height:96px}",
    "form button{border:0;border-radius:8px;background:#1d5fd1;color:#fff;padding:0 16px;font-size:14px;cursor:pointer}",
    "form button:disabled{background:#9bb5e6}",
    ".stars{display:flex;gap:4px}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;max-height:100vh;border-radius:0}",
    ".launcher{right:12px;bottom:12px}}"
  ].join("\n");

  // ---- persistence ---------------------------------------------------------------------------
  function load() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function randomId() {
    var a = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "web-" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var state = load();
  var configuredCustomer = script.getAttribute("data-customer-id");
  if (configuredCustomer && configuredCustomer !== state.customerId) {
    state = { customerId: configuredCustomer };
  }
  if (!state.customerId) state.customerId = randomId();
  state.lastId = state.lastId || 0;
  save();

  // ---- DOM -----------------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "class") node.className = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    if (text != null) node.textContent = text;
    return node;
  }

  var host = el("div", { id: "cs-widget-root" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style"); style.textContent = CSS; root.appendChild(style);

  var launcher = el("button", { class: "launcher", type: "button", "aria-label": "打开在线客服", "aria-expanded": "false",
                                "aria-controls": "cs-panel" }, "💬 在线客服");
  var panel = el("section", { class: "panel", id: "cs-panel", role: "dialog", "aria-label": "星联在线客服", hidden: "" });
  var header = el("header");
  var titles = el("div", { style: "flex:1" });
  titles.appendChild(el("h2", null, "星联客服"));
  var statusLine = el("div", { class: "status", "aria-live": "polite" }, STATE_TEXT.bot);
  titles.appendChild(statusLine);
  var closeBtn = el("button", { type: "button", "aria-label": "收起客服窗口" }, "×");
  header.appendChild(titles); header.appendChild(closeBtn);
  var conn = el("div", { class: "conn", role: "status", hidden: "" }, "连接中断，正在重新连接…");
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "聊天记录", tabindex: "0" });
  var typing = el("div", { class: "typing", hidden: "", "aria-label": "客服正在输入" });
  typing.appendChild(el("span", { class: "sr" }, "客服正在输入…"));
  for (var i = 0; i < 3; i++) typing.appendChild(el("span", { class: "dot", "aria-hidden": "true" }));
  var form = el("form", { "aria-label": "发送消息" });
  var inputLabel = el("label", { class: "sr", for: "cs-input" }, "输入您的问题");
  var input = el("textarea", { id: "cs-input", rows: "1", placeholder: "请输入您的问题，按 Enter 发送", maxlength: "2000",
                               "aria-label": "输入您的问题" });
  var sendBtn = el("button", { type: "submit", "aria-label": "发送" }, "发送");
  form.appendChild(inputLabel); form.appendChild(input); form.appendChild(sendBtn);
  panel.appendChild(header); panel.appendChild(conn); panel.appendChild(log); panel.appendChild(form);
  root.appendChild(launcher); root.appendChild(panel);

  // ---- rendering -----------------------------------------------------------------------------
  var shownIds = {};
  function scroll() { log.scrollTop = log.scrollHeight; }

  function addMessage(sender, text, buttons, id) {
    if (id != null) {
      if (shownIds[id]) return null;
      shownIds[id] = true;
    }
    var wrap = el("div", { class: "msg " + sender });
    if (id != null) wrap.setAttribute("data-id", String(id));
    if (sender !== "customer") wrap.appendChild(el("div", { class: "who" }, SENDERS[sender] || sender));
    wrap.appendChild(el("div", { class: "bubble" }, text));
    if (buttons && buttons.length) {
      var row = el("div", { class: "buttons", role: "group", "aria-label": "可选回复" });
      buttons.forEach(function (b) {
        var btn = el("button", { type: "button" }, b.title);
        btn.addEventListener("click", function () {
          Array.prototype.forEach.call(row.querySelectorAll("button"), function (x) { x.disabled = true; });
          send(b.payload, b.title);
        });
        row.appendChild(btn);
      });
      wrap.appendChild(row);
    }
    log.insertBefore(wrap, typing.parentNode === log ? typing : null);
    scroll();
    return wrap;
  }

  function setStatus(s) {
    if (!s || s === state.convState) return;
    var previous = state.convState;
    state.convState = s; save();
    statusLine.textContent = STATE_TEXT[s] || "";
    if (s === "closed" && (previous === "agent" || previous === "queued") && !state.rated) askCsat();
  }

  // Where a waiting customer stands, live from the stream's `queue` events.
  function showQueue(q) {
    if (!q || q.position === null || q.position === undefined) {
      statusLine.textContent = STATE_TEXT[state.convState] || "";
      return;
    }
    if (!q.in_business_hours) {
      statusLine.textContent = "非工作时间，人工服务 " + q.resume_at_local + " 恢复，您的消息已保存";
    } else if (q.message_left) {
      statusLine.textContent = "已留言，客服会在 " + q.due_local + " 前回复您";
    } else {
      statusLine.textContent = "排队等待人工客服：" + (q.ahead > 0 ? "您前面还有 " + q.ahead + " 位客户" : "您是下一位") +
        "，预计等待约 " + q.expected_wait_min + " 分钟";
    }
  }
  function askCsat() {
    var wrap = addMessage("system", "本次服务已结束，请为客服的服务打分（1 分最低，5 分最高）：");
    var row = el("div", { class: "buttons stars", role: "group", "aria-label": "服务评分" });
    [1, 2, 3, 4, 5].forEach(function (n) {
      var b = el("button", { type: "button", "aria-label": n + " 分" }, n + " 分");
      b.addEventListener("click", function () {
        Array.prototype.forEach.call(row.querySelectorAll("button"), function (x) { x.disabled = true; });
        rate(n);
      });
      row.appendChild(b);
    });
    wrap.appendChild(row);
    scroll();
  }

  function rate(score) {
    var convId = state.ratedConversation || state.conversationId;
    fetch(BASE + "/api/channels/web/conversations/" + encodeURIComponent(convId) + "/csat?token=" +
          encodeURIComponent(state.token || ""), {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ score: score })
    }).then(function (r) {
      state.rated = true; save();
      addMessage("system", r.ok ? "感谢您的评价！" : "评价提交失败，请稍后再试。");
    }).catch(function () { addMessage("system", "评价提交失败，请稍后再试。"); });
  }

  // ---- sending -------------------------------------------------------------------------------
  var timings = [];
  var pending = 0;
  function showTyping(on) {
    if (on) { log.appendChild(typing); typing.hidden = false; scroll(); } else { typing.hidden = true; }
  }

  function send(text, shownAs) {
    text = (text || "").trim();
    if (!text) return;
    var mine = addMessage("customer", shownAs || text);
    var started = performance.now();
    pending++; showTyping(true); sendBtn.disabled = true;
    var body = { customer_id: state.customerId, text: text };
    if (state.conversationId) body.conversation_id = state.conversationId;
    return fetch(BASE + "/api/channels/web/messages", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 404 && state.conversationId) {  // the stored conversation is gone: start afresh
        state.conversationId = null; state.token = null; state.lastId = 0; save();
        throw new Error("stale");
      }
      if (!r.ok) throw new Error("HTTP " + r.status);
      var token = r.headers.get("X-Conversation-Token");
      return r.json().then(function (data) { return { data: data, token: token }; });
    }).then(function (res) {
      var data = res.data;
      if (data.conversation_id !== state.conversationId) {
        if (state.convState === "closed") state.ratedConversation = state.conversationId;
        state.conversationId = data.conversation_id; state.token = res.token; state.rated = false;
        save(); connect();
      } else if (res.token && res.token !== state.token) { state.token = res.token; save(); }
      (data.replies || []).forEach(function (reply) { addMessage("bot", reply.text, reply.buttons); });
      setStatus(data.state);
      var ms = performance.now() - started;
      timings.push(ms);
      performance.measure && performance.mark("cs-reply-" + timings.length);
    }).catch(function (err) {
      if (err && err.message === "stale") { pending--; mine.remove(); return send(text, shownAs); }
      mine.classList.add("failed");
      var retry = el("button", { type: "button", class: "retry" }, "发送失败，点击重试");
      retry.addEventListener("click", function () { mine.remove(); send(text, shownAs); });
      mine.appendChild(retry);
    }).then(function () {
      pending = Math.max(0, pending - 1);
      if (!pending) { showTyping(false); sendBtn.disabled = false; }
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });

  // ---- live stream ---------------------------------------------------------------------------
  var source = null, retryTimer = null, failures = 0;
  function onStored(m) {
    if (m.id > state.lastId) { state.lastId = m.id; save(); }
    // Customer and bot messages of this page arrive with the POST's reply; the stream brings
    // what nobody in this page sent: agents' replies and system notices.
    if (m.sender === "agent" || m.sender === "system") addMessage(m.sender, m.text, m.buttons, m.id);
  }
  function connect() {
    if (source) { source.close(); source = null; }
    clearTimeout(retryTimer);
    if (!state.conversationId || !state.token || typeof EventSource === "undefined") return;
    var url = BASE + "/api/channels/web/conversations/" + encodeURIComponent(state.conversationId) +
              "/events?token=" + encodeURIComponent(state.token) + "&after=" + state.lastId;
    var es = source = new EventSource(url);
    es.addEventListener("open", function () { failures = 0; conn.hidden = true; });
    es.addEventListener("message", function (e) { onStored(JSON.parse(e.data)); });
    es.addEventListener("state", function (e) { setStatus(JSON.parse(e.data).state); });
    es.addEventListener("queue", function (e) { showQueue(JSON.parse(e.data)); });
    es.addEventListener("error", function () {
      if (es !== source) return;
      if (es.readyState === EventSource.CLOSED) {  // refused or the network is gone: retry ourselves
        failures++;
        conn.hidden = false;
        retryTimer = setTimeout(connect, Math.min(15000, 1000 * failures));
      } else if (failures++ > 0) { conn.hidden = false; }
    });
  }

  function restore() {
    if (!state.conversationId) { addMessage("bot", WELCOME); return Promise.resolve(); }
    var url = BASE + "/api/channels/web/conversations/" + encodeURIComponent(state.conversationId) +
              "/messages?customer_id=" + encodeURIComponent(state.customerId);
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (messages) {
      messages.forEach(function (m) {
        if (m.id > state.lastId) state.lastId = m.id;
        var last = m === messages[messages.length - 1];
        addMessage(m.sender, m.text, last ? m.buttons : null, m.id);
      });
      save();
      connect();
    }).catch(function () {
      state.conversationId = null; state.token = null; state.lastId = 0; save();
      addMessage("bot", WELCOME);
    });
  }

  // ---- open / close --------------------------------------------------------------------------
  function open() {
    panel.hidden = false; launcher.hidden = true; launcher.setAttribute("aria-expanded", "true");
    state.open = true; save(); scroll(); input.focus();
  }
  function close() {
    panel.hidden = true; launcher.hidden = false; launcher.setAttribute("aria-expanded", "false");
    state.open = false; save(); launcher.focus();
  }
  launcher.addEventListener("click", open);
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });

  function mount() {
    document.body.appendChild(host);
    if (state.open || script.getAttribute("data-open") === "true") open();
    requestAnimationFrame(function () {
      performance.mark("cs-widget-painted");
      window.CSWidget.paintedAt = performance.now();
    });
    restore();
  }

  window.CSWidget = {
    open: open, close: close, send: send, timings: timings, paintedAt: null,
    get conversationId() { return state.conversationId; }
  };
  statusLine.textContent = STATE_TEXT[state.convState] || STATE_TEXT.bot;
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
