/* The supervisor's reports page: a date range and filters, the report (HTML with SVG charts
 * rendered and escaped by the server), CSV export and the unanswered-question clusters. */
import { Api } from "./api.js";
import * as UI from "./common.js";
import { loadLabels } from "./labels.js";

var el = UI.el, $ = function (id) { return document.getElementById(id); };
var L = await loadLabels();
var api = new Api("cs-reports-key");
var who = null;

function query() {
  var p = new URLSearchParams({ start: $("f-start").value, end: $("f-end").value, granularity: $("f-granularity").value });
  if ($("f-channel").value) p.set("channel", $("f-channel").value);
  if ($("f-category").value) p.set("category", $("f-category").value);
  return p.toString();
}

function load() {
  var started = performance.now();
  $("status").textContent = "加载中…";
  return api.text("/api/reports/view?" + query()).then(function (html) {
    /* The server escapes every text in this fragment; it holds no scripts. */
    $("report").innerHTML = html;
    $("status").textContent = "已更新（" + Math.round(performance.now() - started) + " 毫秒）";
  }, function (err) { $("status").textContent = ""; UI.toast(err.message, "error"); });
}

function exportCsv() {
  api.response("/api/reports/export.csv?" + query())
    .then(function (r) {
      var name = "report.csv";
      var m = /filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "");
      if (m) name = m[1];
      return r.blob().then(function (b) {
        var a = el("a", { href: URL.createObjectURL(b), download: name });
        document.body.appendChild(a); a.click(); a.remove();
      });
    })
    .catch(function (err) { UI.toast(err.message, "error"); });
}

function createDraft(cluster, button) {
  button.disabled = true;
  api.call("POST", "/api/reports/unanswered/drafts", {
    question: cluster.draft.question, similar_questions: cluster.draft.similar_questions, category: cluster.draft.category
  }).then(function (entry) {
    UI.toast("已创建草稿 " + entry.id + "，请在知识库编辑器中补充答案并提交审核");
    button.textContent = "已创建 " + entry.id;
  }, function (err) { button.disabled = false; UI.toast(err.message, "error"); });
}

function loadClusters() {
  $("clusters-status").textContent = "聚类中…";
  /* The same date range as the report above, so the topics belong to the period shown. */
  var range = new URLSearchParams({ limit: "20", start: $("f-start").value, end: $("f-end").value });
  api.call("GET", "/api/reports/unanswered?" + range.toString()).then(function (clusters) {
    var list = UI.clear($("clusters"));
    $("clusters-status").textContent = (clusters.length ? "按提问量排序，共 " + clusters.length + " 个主题" : "暂无未解答的问题") +
      "（" + range.get("start") + " 至 " + range.get("end") + "）";
    clusters.forEach(function (c) {
      var kinds = Object.keys(c.kinds).map(function (k) { return L.name("unanswered_kind", k) + " " + c.kinds[k]; }).join("、");
      var canDraft = who && (who.role === "admin" || who.role === "editor");
      var button = canDraft ? el("button", { type: "button", text: "生成知识库草稿" }) : null;
      if (button) button.addEventListener("click", function () { createDraft(c, button); });
      list.appendChild(el("li", null, [
        el("div", { class: "row" }, [
          el("span", { class: "badge", text: "#" + c.rank }),
          el("span", { class: "q", text: c.draft.question }),
          el("span", { class: "muted", text: "提问 " + c.volume + " 次 · " + c.distinct_questions + " 种问法 · " + kinds }),
          el("span", { class: "badge", text: L.name("category", c.draft.category) }),
          button
        ]),
        el("div", { class: "similar", text: "相似问法：" + c.draft.similar_questions.slice(0, 8).join(" / ") })
      ]));
    });
  }, function (err) { $("clusters-status").textContent = ""; UI.toast(err.message, "error"); });
}

L.addOptions($("f-granularity"), "granularity");
L.addOptions($("f-channel"), "channel");
L.addOptions($("f-category"), "category");
UI.login(api, ["supervisor", "admin"], function (me) {
  who = me;
  $("who").textContent = me.name + "（" + (me.role === "admin" ? "管理员" : "主管") + "）";
  $("logout").hidden = false;
  /* Dates are the service's local dates: the default range and "today" come from the server,
   * never from the browser's clock, which may be on another day (a laptop on UTC). */
  api.call("GET", "/api/reports/range").then(function (range) {
    $("f-start").value = range.start; $("f-end").value = range.end;
    $("f-tz").textContent = "日期按服务时区 " + range.timezone + " 计算（今天：" + range.today + "）";
    load();
  }, function (err) { UI.toast(err.message, "error"); });
});
$("logout").addEventListener("click", function () { api.signOut(); location.reload(); });
$("filters").addEventListener("submit", function (e) { e.preventDefault(); load(); });
$("export").addEventListener("click", exportCsv);
$("load-clusters").addEventListener("click", loadClusters);
