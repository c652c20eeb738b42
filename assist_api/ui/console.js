/* Agent console: the handoff queue with SLA countdowns, the escalation record, the live
 * conversation, suggested replies and the case actions. Every text is set with textContent.
 * The queue and the open case arrive by push (server-sent events, live.js); the only timer
 * is the one-second clock of the SLA countdowns, which fetches nothing. */
import * as Alerts from "./alerts.js";
import { Api } from "./api.js";
import * as UI from "./common.js";
import { loadLabels } from "./labels.js";
import { stream } from "./live.js";
import { SuggestionEvents } from "./suggestion_events.js";

var el = UI.el, clear = UI.clear;
var L = await loadLabels();
var api = new Api("cs-console-key");
var suggestionEvents = new SuggestionEvents(api);  // reported in the background, never awaited
var me = null, filter = "queued", selectedId = null, records = [], current = null;
var lastMessageId = 0, caseLive = false, queueStream = null, caseStream = null, fresh = {};
var RANK = { urgent: 0, high: 1, normal: 2 };
// The labels an agent may correct, in the order the record shows them.
var CORRECTABLE = [["category", "类别"], ["priority", "优先级"], ["complexity", "复杂度"], ["emotion", "情绪"],
                   ["is_complaint", "投诉"]];
var COMPLAINT = { "true": "是", "false": "否" };

// ---- SLA -------------------------------------------------------------------------------------
function slaView(record) {
  var sla = record.sla;
  if (record.status === "closed") return { text: "已关闭", cls: "" };
  var responded = !!sla.first_response_at;
  var due = new Date(responded ? sla.resolution_due : sla.first_response_due).getTime();
  var left = Math.round((due - Date.now()) / 1000);
  var what = responded ? "解决" : "首次响应";
  // At risk from the moment the server names (settings), so the highlight needs no fetch.
  var risky = sla.state === "at_risk" || (sla.at_risk_from && Date.now() >= new Date(sla.at_risk_from).getTime());
  var cls = left < 0 || sla.state === "breached" ? "breached" : risky ? "at_risk" : "";
  if (left < 0) return { text: what + "已超时 " + clock(-left), cls: "breached" };
  return { text: what + "剩余 " + clock(left) + (cls === "at_risk" ? " · 即将超时" : ""), cls: cls };
}
function clock(s) {
  var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (h) return h + " 小时 " + m + " 分";
  return (m < 10 ? "0" : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
}
function tick() {
  Array.prototype.forEach.call(document.querySelectorAll("[data-sla-for]"), function (node) {
    var record = records.filter(function (r) { return String(r.id) === node.getAttribute("data-sla-for"); })[0]
      || (current && String(current.id) === node.getAttribute("data-sla-for") ? current : null);
    if (!record) return;
    var v = slaView(record);
    node.textContent = v.text;
    node.className = "sla " + v.cls;
    var item = node.closest("li");
    if (item) { item.classList.toggle("breached", v.cls === "breached"); item.classList.toggle("at_risk", v.cls === "at_risk"); }
  });
}

// ---- queue -----------------------------------------------------------------------------------
function listed(r) {
  return filter === "queued" ? r.status === "queued" : filter === "mine" ? r.owner === me.name && r.status !== "closed" : true;
}
function byUrgency(a, b) {
  return (RANK[a.priority] - RANK[b.priority]) || (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0);
}
function upsert(record) {
  records = records.filter(function (r) { return r.id !== record.id; });
  if (listed(record)) records.push(record);
  records.sort(byUrgency);
  renderQueue();
}
function signedOut() { location.reload(); }  // the key was revoked: back to the sign-in form

function watchQueue() {
  if (queueStream) queueStream.close();
  var path = "/api/handoffs/events" + (filter === "queued" ? "?status=queued" : filter === "mine" ? "?owner=" + encodeURIComponent(me.name) : "");
  queueStream = stream(api, function () { return path; }, {
    snapshot: function (data) { records = data.records.filter(listed); renderQueue(); },
    "case": function (data) { upsert(data.record); },
    gone: function (data) { records = records.filter(function (r) { return r.id !== data.id; }); renderQueue(); },
    "new": function (record) { fresh[record.id] = true; Alerts.notify(); upsert(record); }
  }, signedOut);
}

function renderQueue() {
  var focused = document.activeElement && document.activeElement.closest("#queue li");
  var focusedId = focused ? focused.getAttribute("data-id") : null;
  var ul = clear(document.getElementById("queue"));
  document.getElementById("queue-empty").hidden = records.length > 0;
  records.forEach(function (r) {
    var v = slaView(r);
    var li = el("li", { tabindex: "0", role: "button", "data-id": r.id, class: v.cls + (fresh[r.id] ? " fresh" : ""),
                        "aria-selected": String(r.id === selectedId),
                        "aria-label": "工单 " + r.id + "，" + L.name("priority", r.priority) + "优先级，" + v.text,
                        onclick: function () { select(r.id); },
                        onkeydown: function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(r.id); } } }, [
      el("div", { class: "line" }, [
        el("strong", { text: "#" + r.id }),
        el("span", { class: "badge " + r.priority, text: L.name("priority", r.priority) }),
        el("span", { class: "badge", text: L.name("status", r.status) }),
        el("span", { class: "sla " + v.cls, "data-sla-for": r.id, text: v.text })
      ]),
      el("div", { class: "muted", text: L.name("reason", r.reason) + " · " + L.name("category", r.classification.category.label) +
                                         (r.owner ? " · " + r.owner : "") }),
      el("div", { class: "snippet", text: (r.summary.background || "").split("\n").pop() })
    ]);
    ul.appendChild(li);
    if (String(r.id) === focusedId) li.focus();
    delete fresh[r.id];  // a new case flashes once
  });
}

// ---- one record ------------------------------------------------------------------------------
function select(id) {
  var record = records.filter(function (r) { return r.id === id; })[0];
  if (!record) return;
  selectedId = id; current = null; lastMessageId = 0; caseLive = false; delete fresh[id];
  suggestionEvents.end();  // the open case's suggestions leave the screen
  renderQueue();
  clear(document.getElementById("detail")).appendChild(el("p", { class: "muted", text: "加载中…" }));
  if (caseStream) caseStream.close();
  var conv = record.conversation_id;
  caseStream = stream(api, function () {
    return "/api/conversations/" + encodeURIComponent(conv) + "/events?after=" + lastMessageId;
  }, {
    record: showRecord,
    message: addMessage,
    ready: function () { caseLive = true; }  // what arrives from now on is new
  }, signedOut);
}

function showRecord(record) {
  var first = !current || current.id !== record.id;
  current = record;
  if (first) { renderDetail(record); loadSuggestions(); return; }
  renderHeader(record); renderActions(record); renderLabels(record); renderLog(record); renderCorrection(record);
}

function renderHeader(r) {
  var h = document.getElementById("record-title");
  if (!h) return;
  h.textContent = "工单 #" + r.id + " · " + L.name("status", r.status) + (r.owner ? " · 负责人 " + r.owner : " · 未接单");
}

function renderActions(r) {
  var box = document.getElementById("actions");
  if (!box) return;
  var typed = document.getElementById("transfer-to");  // an update must not eat what is typed
  typed = typed ? typed.value : "";
  clear(box);
  var mine = r.owner === me.name;
  function action(label, name, cls) {
    box.appendChild(el("button", { type: "button", class: cls || "", "data-action": name, text: label, onclick: function () { act(name); } }));
  }
  if (r.status === "queued") action("接单", "claim", "primary");
  if (mine && (r.status === "assigned" || r.status === "in_progress")) {
    action("标记已解决", "resolve");
    var input = el("input", { id: "transfer-to", placeholder: "转给（坐席名）", "aria-label": "转接给哪位坐席", size: "14" });
    input.value = typed;
    box.appendChild(input);
    box.appendChild(el("button", { type: "button", "data-action": "transfer", text: "转接", onclick: transfer }));
  }
  if (mine && r.status !== "closed") action("关闭工单", "close", "danger");
  if (mine && (r.status === "resolved" || r.status === "closed")) action("重新打开", "reopen");
  document.getElementById("send").disabled = !(mine && r.status !== "closed");
}

function act(name) {
  return api.call("POST", "/api/handoffs/" + current.id + "/" + name).then(function (r) {
    UI.toast({ claim: "已接单", resolve: "已标记解决，等待客户确认", close: "工单已关闭", reopen: "工单已重新打开" }[name]);
    current = Object.assign(current, r);
    renderActions(current); renderHeader(current); renderCorrection(current);
  }, function (err) { UI.toast(err.message, "error"); });
}

function transfer() {
  var to = document.getElementById("transfer-to").value.trim();
  if (!to) { UI.toast("请填写要转给的坐席", "error"); return; }
  api.call("POST", "/api/handoffs/" + current.id + "/transfer", { to: to }).then(function (r) {
    UI.toast("已转接给 " + to);
    current = Object.assign(current, r);
    document.getElementById("transfer-to").value = "";
    renderActions(current); renderHeader(current);
  }, function (err) { UI.toast(err.message, "error"); });
}

// ---- classification and its corrections ----------------------------------------------------
function labelOf(r, field) {
  var c = r.classification || {};
  if (field === "is_complaint") return String(!!c.is_complaint);
  return c[field] ? c[field].label : "";
}
function labelRow(r, field, name) {
  var value = r.classification[field] || {}, corrected = (r.classification.corrected || []).indexOf(field) >= 0;
  var shown = field === "is_complaint" ? COMPLAINT[labelOf(r, field)] : L.name(field, value.label);
  var how = corrected ? "已更正" + (value.corrected_by ? "（" + value.corrected_by + "）" : "")
                      : value.confidence != null ? "置信度 " + UI.pct(value.confidence) : "";
  return el("tr", { "data-label": field }, [el("th", { text: name }), el("td", { text: shown }),
                                             el("td", { class: corrected ? "corrected" : "muted", text: how })]);
}
function renderLabels(r) {
  var table = document.getElementById("labels");
  if (!table) return;
  clear(table);
  CORRECTABLE.forEach(function (f) { table.appendChild(labelRow(r, f[0], f[1])); });
  document.getElementById("route").textContent = "路由：" + L.name("route", r.classification.route) +
                                                (r.classification.is_complaint ? " · 投诉" : "");
}

/* The correction form: the owner (or an admin) picks the right labels and saves; each change
 * is one audited correction. Rebuilt only when who may use it changes, so a record pushed while
 * the agent is choosing does not undo the choice. */
function renderCorrection(r, force) {
  var box = document.getElementById("correct");
  if (!box) return;
  var may = r.owner === me.name || me.role === "admin";
  if (!force && box.getAttribute("data-may") === String(may)) return;
  box.setAttribute("data-may", String(may));
  clear(box);
  if (!may) { box.appendChild(el("p", { class: "muted", text: "接单后可更正分类" })); return; }
  var form = el("form", { id: "correct-form", class: "correct", "aria-label": "更正分类", onsubmit: saveCorrections });
  CORRECTABLE.forEach(function (f) {
    var select = el("select", { id: "correct-" + f[0], name: f[0] });
    if (f[0] === "is_complaint") {
      Object.keys(COMPLAINT).forEach(function (v) { select.appendChild(el("option", { value: v, text: COMPLAINT[v] })); });
    } else L.addOptions(select, f[0]);
    select.value = labelOf(r, f[0]);
    form.appendChild(el("label", { for: select.id, text: f[1] }));
    form.appendChild(select);
  });
  form.appendChild(el("button", { type: "submit", id: "save-correction", text: "保存更正" }));
  box.appendChild(form);
}

function saveCorrections(e) {
  e.preventDefault();
  var id = current.id;
  var changes = CORRECTABLE.map(function (f) { return f[0]; }).filter(function (field) {
    return document.getElementById("correct-" + field).value !== labelOf(current, field);
  });
  if (!changes.length) { UI.toast("分类没有变化", "error"); return; }
  var button = document.getElementById("save-correction");
  button.disabled = true;
  changes.reduce(function (done, field) {
    return done.then(function () {
      var value = document.getElementById("correct-" + field).value;
      return api.call("POST", "/api/handoffs/" + id + "/corrections", { field: field, value: value });
    }).then(function (record) {
      if (current && current.id === id) current = Object.assign(current, record);
    });
  }, Promise.resolve()).then(function () {
    UI.toast("已更正分类");
  }, function (err) { UI.toast("更正失败：" + err.message, "error"); }).then(function () {
    if (!current || current.id !== id) return;
    renderLabels(current); renderLog(current); renderCorrection(current, true);
  });
}

// ---- the record's audit trail ----------------------------------------------------------------
function eventText(e) {
  if (!e.from) return "创建工单（" + L.name("reason", e.note) + "）";
  if (e.from === e.to) return e.note || L.name("status", e.to);
  return L.name("status", e.from) + " → " + L.name("status", e.to) + (e.note ? "（" + e.note + "）" : "");
}
function renderLog(r) {
  var list = document.getElementById("record-log");
  if (!list) return;
  clear(list);
  (r.events || []).forEach(function (e) {
    list.appendChild(el("li", null, [el("span", { class: "muted", text: UI.time(e.at) + " · " + (e.actor || "系统") + " · " }),
                                     document.createTextNode(eventText(e))]));
  });
}

function renderDetail(r) {
  var pane = clear(document.getElementById("detail"));
  var s = r.summary, profile = r.customer_profile || {};
  pane.appendChild(el("h2", { id: "record-title" }));
  pane.appendChild(el("div", { class: "actions", id: "actions", role: "group", "aria-label": "工单操作" }));
  var tried = el("ul", null, (s.bot_tried || []).map(function (t) {
    return el("li", { text: t.question + "（" + t.id + "，置信度 " + UI.pct(t.confidence) + "）" });
  }));
  if (!(s.bot_tried || []).length) tried.appendChild(el("li", { class: "muted", text: "机器人没有给出知识库答案" }));
  var v = slaView(r);
  pane.appendChild(el("div", { class: "record" }, [
    el("div", { class: "box wide", "aria-label": "问题摘要" }, [
      el("h3", { text: "问题摘要" }),
      el("label", { text: "待解决的问题（客户原话）" }),
      el("div", { style: "white-space:pre-wrap", id: "background", text: s.background || "—" }),
      el("label", { text: "机器人已尝试" }), tried,
      el("label", { text: "当前瓶颈" }), el("div", { text: s.bottleneck || "—" }),
      (r.waiting && r.waiting.message_left_at)
        ? el("div", { class: "left-message", id: "left-message",
                      text: "客户已选择留言、不在线等待（" + UI.time(r.waiting.message_left_at) + "），请在截止时间前回复" })
        : el("span")
    ]),
    el("div", { class: "box", "aria-label": "工单分类" }, [
      el("h3", { text: "分类" }),
      el("table", { id: "labels" }),
      el("div", { class: "muted", id: "route" }),
      el("div", { id: "correct" })
    ]),
    el("div", { class: "box", "aria-label": "客户与时限" }, [
      el("h3", { text: "客户与时限" }),
      el("div", { text: "客户：" + r.customer_id + "（" + L.name("channel", r.channel) + "）" }),
      el("div", { text: ["name", "phone", "level", "city"].filter(function (k) { return profile[k]; })
                            .map(function (k) { return profile[k]; }).join(" · ") || "无客户资料" }),
      el("div", { text: "转人工原因：" + L.name("reason", r.reason) }),
      el("div", { text: "首次响应时限：" + UI.time(r.sla.first_response_due) }),
      el("div", { text: "解决时限：" + UI.time(r.sla.resolution_due) }),
      el("div", { class: "sla " + v.cls, "data-sla-for": r.id, text: v.text })
    ]),
    el("div", { class: "box wide" }, [
      el("h3", { text: "对话记录（已脱敏）" }),
      el("div", { class: "chat", id: "chat", role: "log", "aria-live": "polite", "aria-label": "对话记录", tabindex: "0" })
    ]),
    el("div", { class: "box wide" }, [
      el("h3", { text: "推荐回复" }),
      el("div", { class: "suggestions", id: "suggestions" }, [el("span", { class: "muted", text: "加载中…" })]),
      el("form", { class: "reply", id: "reply-form", onsubmit: sendReply }, [
        el("label", { for: "reply", text: "回复客户（可编辑）" }),
        el("textarea", { id: "reply", maxlength: "2000", rows: "4" }),
        el("div", { class: "row" }, [el("button", { type: "submit", class: "primary", id: "send", text: "发送" }),
                                     el("span", { class: "muted", text: "Ctrl+Enter 发送" })])
      ])
    ]),
    el("div", { class: "box wide", "aria-label": "处理记录" }, [
      el("h3", { text: "处理记录" }),
      el("ul", { class: "record-log", id: "record-log" })
    ])
  ]));
  document.getElementById("reply").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) sendReply(e);
  });
  renderHeader(r); renderActions(r); renderLabels(r); renderLog(r); renderCorrection(r);
}

function loadSuggestions() {
  var id = current.id;
  api.call("POST", "/api/assist/suggest", { conversation_id: current.conversation_id, k: 3 }).then(function (res) {
    if (!current || current.id !== id) return;
    var box = clear(document.getElementById("suggestions"));
    // Reported only for a case that is the agent's, or nobody's yet.
    suggestionEvents.shown(id, res.impression_id, res.suggestions, !current.owner || current.owner === me.name);
    res.suggestions.forEach(function (sug, i) {
      box.appendChild(el("div", { class: "suggestion" }, [
        el("p", { text: sug.text }),
        el("span", { class: "muted", text: (sug.source === "kb" ? "知识库" : "话术") + " " + UI.pct(sug.score) }),
        el("button", { type: "button", "data-suggestion": i, "aria-label": "插入推荐回复 " + (i + 1), text: "插入",
                       onclick: function () {
                         var t = document.getElementById("reply"); t.value = sug.text; t.focus();
                         suggestionEvents.inserted(i);
                       } })
      ]));
    });
    if (!res.suggestions.length) box.appendChild(el("span", { class: "muted", text: "暂无推荐" }));
  }, function (err) { clear(document.getElementById("suggestions")).appendChild(el("span", { class: "muted", text: err.message })); });
}

function sendReply(e) {
  e.preventDefault();
  var box = document.getElementById("reply");
  var text = box.value.trim();
  if (!text) return;
  var btn = document.getElementById("send");
  btn.disabled = true;
  var id = current.id;
  api.call("POST", "/api/conversations/" + current.conversation_id + "/agent-messages", { text: text }).then(function () {
    box.value = "";  // the message and the record's change arrive on the case stream
    suggestionEvents.sent(text);  // the inserted suggestion sent as is or edited; queued, not awaited
    if (current && current.id === id) loadSuggestions();  // the conversation moved on
  }, function (err) { UI.toast(err.message, "error"); }).then(function () { btn.disabled = !(current.owner === me.name); });
}

// ---- live conversation -----------------------------------------------------------------------
function addMessage(m) {
  var chat = document.getElementById("chat");
  if (!chat || m.id <= lastMessageId) return;
  lastMessageId = m.id;
  var atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
  chat.appendChild(el("div", { class: "m " + m.sender, "data-id": m.id }, [
    el("span", { class: "meta", text: L.name("sender", m.sender) + " · " + UI.time(m.created_at) }),
    document.createTextNode(m.text)
  ]));
  if (atBottom) chat.scrollTop = chat.scrollHeight;
  if (caseLive && m.sender === "customer") Alerts.notify();
}

// ---- start -----------------------------------------------------------------------------------
Array.prototype.forEach.call(document.querySelectorAll("[data-filter]"), function (b) {
  b.addEventListener("click", function () {
    filter = b.getAttribute("data-filter");
    Array.prototype.forEach.call(document.querySelectorAll("[data-filter]"), function (x) { x.setAttribute("aria-pressed", String(x === b)); });
    watchQueue();
  });
});
document.getElementById("logout").addEventListener("click", function () { api.signOut(); location.reload(); });

UI.login(api, ["agent", "admin"], function (who) {
  me = who;
  document.getElementById("who").textContent = "坐席：" + who.name;
  document.getElementById("logout").hidden = false;
  document.getElementById("sound-switch").hidden = false;
  Alerts.bindSwitch(document.getElementById("sound"));
  watchQueue();
  setInterval(tick, 1000);  // countdowns and at-risk highlights only: fetches nothing
});
