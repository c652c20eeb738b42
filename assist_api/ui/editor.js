/* KB editor: entries (list, search, filter, edit with similar questions), the workflow
 * (draft → review → published → archived), version history with diffs and restore, the
 * "test a question" pane and the unanswered-questions list. Text only via textContent. */
import { Api } from "./api.js";
import * as UI from "./common.js";
import { loadLabels } from "./labels.js";

var el = UI.el, clear = UI.clear;
var L = await loadLabels();
var api = new Api("cs-editor-key");
var entry = null;  // the open entry (null: a new, unsaved one)
var NEXT = {  // workflow buttons per status
  draft: [["review", "提交审核", "primary"], ["archived", "归档", "danger"]],
  review: [["published", "发布", "primary"], ["draft", "退回草稿", ""]],
  published: [["archived", "归档", "danger"], ["draft", "撤回为草稿", ""]],
  archived: [["draft", "恢复为草稿", ""]]
};
var $ = function (id) { return document.getElementById(id); };

// ---- list ------------------------------------------------------------------------------------
var listTimer = null;
function loadList() {
  var params = new URLSearchParams();
  if ($("filter-q").value.trim()) params.set("q", $("filter-q").value.trim());
  if ($("filter-status").value) params.set("status", $("filter-status").value);
  if ($("filter-category").value) params.set("category", $("filter-category").value);
  return api.call("GET", "/api/editor/entries?" + params).then(function (rows) {
    var ul = clear($("entries"));
    $("list-count").textContent = "共 " + rows.length + " 条";
    rows.slice(0, 300).forEach(function (e) {
      ul.appendChild(el("li", { tabindex: "0", role: "button", "data-id": e.id, "aria-selected": String(!!entry && entry.id === e.id),
                                onclick: function () { open(e.id); },
                                onkeydown: function (ev) { if (ev.key === "Enter") open(e.id); } }, [
        el("span", { class: "badge " + e.status, text: L.name("kb_status", e.status) }), " ",
        el("span", { class: "muted", text: e.id + " · " + L.name("category", e.category) + " · v" + e.version }),
        el("span", { class: "q", text: e.question })
      ]));
    });
  }, fail);
}

// ---- one entry -------------------------------------------------------------------------------
function fill(e, preset) {
  entry = e;
  $("entry-title").textContent = e ? "编辑条目 " + e.id : "新建条目";
  $("f-id").value = e ? e.id : "";
  $("f-id").readOnly = !!e;
  $("f-question").value = e ? e.question : (preset && preset.question) || "";
  $("f-similar").value = e ? e.similar_questions.join("\n") : "";
  $("f-answer").value = e ? e.answer : "";
  $("f-category").value = e ? e.category : "other";
  $("f-tags").value = e ? e.tags.join("，") : "";
  var status = clear($("entry-status"));
  if (e) status.appendChild(el("span", { class: "badge " + e.status, text: L.name("kb_status", e.status) }));
  $("entry-version").textContent = e ? "版本 " + e.version + " · 更新于 " + UI.time(e.updated_at) : "未保存";
  renderActions();
  if (e) loadHistory(); else clear($("history")).appendChild(el("p", { class: "muted", text: "保存后可查看版本历史。" }));
  Array.prototype.forEach.call(document.querySelectorAll("#entries li"), function (li) {
    li.setAttribute("aria-selected", String(!!e && li.getAttribute("data-id") === e.id));
  });
}

function renderActions() {
  var box = clear($("entry-actions"));
  var editable = !entry || entry.status !== "archived";
  box.appendChild(el("button", { type: "submit", class: entry ? "" : "primary", id: "save", disabled: !editable,
                                 text: entry ? "保存修改" : "保存草稿" }));
  if (!entry) return;
  NEXT[entry.status].forEach(function (t) {
    box.appendChild(el("button", { type: "button", class: t[2], "data-to": t[0], text: t[1], onclick: function () { transition(t[0]); } }));
  });
}

function content() {
  var split = function (s, re) { return s.split(re).map(function (x) { return x.trim(); }).filter(Boolean); };
  return {
    question: $("f-question").value.trim(),
    similar_questions: split($("f-similar").value, /\n/),
    answer: $("f-answer").value.trim(),
    category: $("f-category").value,
    tags: split($("f-tags").value, /[,，]/)
  };
}

function open(id) {
  return api.call("GET", "/api/editor/entries/" + encodeURIComponent(id)).then(function (e) { fill(e); }, fail);
}

function save(ev) {
  ev.preventDefault();
  var body = content();
  var call;
  if (entry) {
    body.expected_version = entry.version;
    call = api.call("PUT", "/api/editor/entries/" + encodeURIComponent(entry.id), body);
  } else {
    if ($("f-id").value.trim()) body.id = $("f-id").value.trim();
    call = api.call("POST", "/api/editor/entries", body);
  }
  return call.then(function (e) { UI.toast(entry ? "已保存为版本 " + e.version : "草稿已创建：" + e.id); fill(e); loadList(); }, fail);
}

function transition(to) {
  return api.call("POST", "/api/editor/entries/" + encodeURIComponent(entry.id) + "/transition", { to: to }).then(function (e) {
    UI.toast("状态已改为：" + L.name("kb_status", e.status) + (e.status === "published" ? "（机器人几秒内即可使用）" : ""));
    fill(e); loadList();
  }, fail);
}

// ---- history ---------------------------------------------------------------------------------
function show(v) {
  if (v == null || v === "") return "（空）";
  if (Array.isArray(v)) return v.join("；") || "（空）";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
function changeView(c) {
  var name = L.name("kb_field", c.field);
  if (c.added || c.removed) {
    var parts = [el("strong", { text: name + "：" })];
    (c.added || []).forEach(function (x) { parts.push(el("span", { class: "added", text: " +" + x })); });
    (c.removed || []).forEach(function (x) { parts.push(el("span", { class: "removed", text: " −" + x })); });
    return el("div", { class: "change" }, parts);
  }
  if (c.field === "status") {
    return el("div", { class: "change" }, [el("strong", { text: name + "：" }),
      document.createTextNode(L.name("kb_status", c.before) + " → " + L.name("kb_status", c.after))]);
  }
  var fmt = function (v) { return c.field === "category" ? L.name("category", v) : show(v); };
  if (c.before == null) return el("div", { class: "change" }, [el("strong", { text: name + "：" }), el("span", { class: "after", text: fmt(c.after) })]);
  return el("div", { class: "change" }, [el("strong", { text: name + "：" }), el("span", { class: "before", text: fmt(c.before) }),
                                         " → ", el("span", { class: "after", text: fmt(c.after) })]);
}
var ACTIONS = { create: "创建", update: "修改", transition: "状态变更", restore: "恢复", import: "导入" };
function loadHistory() {
  var id = entry.id;
  return api.call("GET", "/api/editor/entries/" + encodeURIComponent(id) + "/history").then(function (versions) {
    if (!entry || entry.id !== id) return;
    var box = clear($("history"));
    versions.forEach(function (v, i) {
      var head = el("div", { class: "row" }, [
        el("strong", { text: "版本 " + v.version }),
        el("span", { class: "muted", text: (ACTIONS[v.action] || v.action) + " · " + v.actor + " · " + UI.time(v.at) })
      ]);
      if (i > 0 && entry.status !== "archived") {
        head.appendChild(el("button", { type: "button", "data-restore": v.version, text: "恢复此版本",
                                        onclick: function () { restore(v.version); } }));
      }
      box.appendChild(el("div", { class: "version" }, [head].concat(v.changes.map(changeView))));
    });
  }, fail);
}
function restore(version) {
  return api.call("POST", "/api/editor/entries/" + encodeURIComponent(entry.id) + "/restore", { version: version }).then(function (e) {
    UI.toast("已恢复版本 " + version + " 的内容（新版本 " + e.version + "）"); fill(e); loadList();
  }, fail);
}

// ---- test a question -------------------------------------------------------------------------
function test(ev) {
  ev.preventDefault();
  var body = { query: $("test-q").value.trim(), top_k: 5 };
  if ($("test-draft").checked) {
    if (entry) body.draft_id = entry.id;
    else if ($("f-question").value.trim() && $("f-answer").value.trim()) body.draft = content();
  }
  return api.call("POST", "/api/editor/test", body).then(function (res) {
    var box = clear($("test-result"));
    box.appendChild(el("p", null, [el("span", { text: "机器人的决定：" }),
      el("span", { class: "badge " + res.decision, id: "test-decision", text: L.name("decision", res.decision) }),
      el("span", { class: "muted", text: "  阈值：回答 ≥ " + UI.pct(res.thresholds.answer) + "，澄清 ≥ " + UI.pct(res.thresholds.clarify) +
                                         " · " + res.took_ms + " ms" })]));
    /* What search looked for once greetings, numbers and 急 tails were set aside. */
    if (res.searched_as && res.searched_as !== res.query) {
      box.appendChild(el("p", { class: "muted", id: "test-searched-as", text: "实际检索：" + res.searched_as }));
    }
    var rows = res.results.map(function (r) {
      return el("tr", { class: r.is_draft ? "is-draft" : "" }, [
        el("td", { text: String(r.rank) }), el("td", { text: r.id + (r.is_draft ? "（当前条目）" : "") }),
        el("td", { text: r.question }), el("td", { class: "num", text: r.score.toFixed(3) }),
        el("td", { class: "num", text: UI.pct(r.confidence) })
      ]);
    });
    box.appendChild(el("table", { "aria-label": "匹配结果" }, [
      el("thead", null, [el("tr", null, ["排名", "条目", "标准问题", "得分", "置信度"].map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", null, rows)
    ]));
  }, fail);
}

// ---- unanswered questions --------------------------------------------------------------------
function loadUnanswered() {
  var kind = $("unanswered-kind").value;
  return api.call("GET", "/api/editor/unanswered" + (kind ? "?kind=" + kind : "")).then(function (items) {
    var body = clear($("unanswered"));
    if (!items.length) body.appendChild(el("tr", null, [el("td", { colspan: "5", class: "muted", text: "暂无未解决问题" })]));
    items.forEach(function (item) {
      body.appendChild(el("tr", null, [
        el("td", { text: item.text }), el("td", { text: String(item.count) }),
        el("td", { text: Object.keys(item.kinds).map(function (k) { return L.name("unanswered_kind", k) + " " + item.kinds[k]; }).join("，") +
                         (item.entry_ids.length ? "（没帮助的条目：" + item.entry_ids.join("、") + "）" : "") }),
        el("td", { class: "muted", text: UI.time(item.last_at) }),
        el("td", null, [el("button", { type: "button", class: "primary", "data-create-from": item.text, text: "据此创建草稿",
                                       onclick: function () { createFrom(item.text); } })])
      ]));
    });
  }, fail);
}
function createFrom(text) {
  showTab("entries");
  fill(null, { question: text });
  $("test-q").value = text;
  $("f-answer").focus();
}

// ---- chrome ----------------------------------------------------------------------------------
function fail(err) { UI.toast(err.message, "error"); if (err.status === 401) { api.signOut(); location.reload(); } }
function showTab(name) {
  ["entries", "unanswered"].forEach(function (n) {
    $("tab-" + n).setAttribute("aria-selected", String(n === name));
    $("view-" + n).hidden = n !== name;
  });
  if (name === "unanswered") loadUnanswered();
}

L.addOptions($("filter-status"), "kb_status");
L.addOptions($("filter-category"), "category");
L.addOptions($("f-category"), "category");
L.addOptions($("unanswered-kind"), "unanswered_kind");
$("filter-q").addEventListener("input", function () { clearTimeout(listTimer); listTimer = setTimeout(loadList, 250); });
$("filter-status").addEventListener("change", loadList);
$("filter-category").addEventListener("change", loadList);
$("new-entry").addEventListener("click", function () { fill(null); $("f-question").focus(); });
$("entry-form").addEventListener("submit", save);
$("test-form").addEventListener("submit", test);
$("tab-entries").addEventListener("click", function () { showTab("entries"); });
$("tab-unanswered").addEventListener("click", function () { showTab("unanswered"); });
$("unanswered-kind").addEventListener("change", loadUnanswered);
$("unanswered-refresh").addEventListener("click", loadUnanswered);
$("logout").addEventListener("click", function () { api.signOut(); location.reload(); });

UI.login(api, ["editor", "admin"], function (who) {
  $("who").textContent = "编辑：" + who.name;
  $("logout").hidden = false;
  fill(null);
  loadList();
});
