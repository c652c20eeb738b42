/* What the agent does with the suggested replies, reported to the gateway (POST
 * /api/assist/events) so the ranking can learn from it: each list shown, each suggestion
 * inserted, the inserted one sent unchanged or edited (with its edit distance), and the ones
 * never inserted before the list is replaced or a reply is sent, ignored.
 *
 * Nothing here may slow the agent: events wait in a queue and go out in one background request
 * a moment later (keepalive, so they survive the tab closing), or at once when the page is
 * hidden. No caller awaits them and a failed report is dropped, never retried in a loop. */
import { request } from "./api.js";

var FLUSH_MS = 300;   // events of one click (a list's `shown`s, a send's outcome) go in one request
var BATCH = 50;       // the API's most events per request

/* Characters inserted, deleted or replaced to turn `a` into `b` (the server computes the same
 * from the texts sent with the event; this one is for the console's own use and old servers). */
export function levenshtein(a, b) {
  var start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  var endA = a.length, endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  a = a.slice(start, endA); b = b.slice(start, endB);
  if (!a.length || !b.length) return a.length + b.length;
  var previous = [];
  for (var j = 0; j <= b.length; j++) previous.push(j);
  for (var i = 1; i <= a.length; i++) {
    var current = [i];
    for (j = 1; j <= b.length; j++) {
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    previous = current;
  }
  return previous[b.length];
}

export class SuggestionEvents {
  constructor(api) {
    this.api = api;
    this.queue = [];
    this.timer = null;
    this.list = null;  // the list on screen: {handoffId, impressionId, items, inserted: {rank: true}, last}
    var self = this;
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") self.flush();
    });
    window.addEventListener("pagehide", function () { self.flush(); });
  }

  /* A new list of suggestions is on screen: the previous one ends (its never-inserted ones
   * ignored), each of these is `shown`. `report` false: on screen but not the agent's to report
   * (another agent's case); nothing is recorded for it. */
  shown(handoffId, impressionId, suggestions, report) {
    this.end();
    if (!report || !impressionId || !suggestions.length) return;
    this.list = { handoffId: handoffId, impressionId: impressionId, items: suggestions, inserted: {}, last: null };
    suggestions.forEach(function (s) { this._add(s, "shown"); }, this);
  }

  /* The agent put suggestion `index` into the reply box (once per suggestion and list). */
  inserted(index) {
    var list = this.list, s = list && list.items[index];
    if (!s) return;
    list.last = s;
    if (list.inserted[s.rank]) return;
    list.inserted[s.rank] = true;
    this._add(s, "inserted");
  }

  /* A reply went out: the last suggestion inserted was sent unchanged or edited, the rest of
   * the list was ignored, and the list is done. */
  sent(text) {
    var list = this.list;
    if (!list) return;
    var s = list.last;
    if (s) {
      var suggestion = s.text.trim(), reply = text.trim();
      var distance = levenshtein(suggestion, reply);
      this._add(s, distance ? "sent_edited" : "sent_unchanged",
                { edit_distance: distance, suggestion_text: suggestion, sent_text: reply });
    }
    this.end();
    this.flush();
  }

  /* The list leaves the screen (a refresh, another case): what was never inserted was ignored. */
  end() {
    var list = this.list;
    if (!list) return;
    list.items.forEach(function (s) { if (!list.inserted[s.rank]) this._add(s, "ignored"); }, this);
    this.list = null;
  }

  _add(s, action, extra) {
    var list = this.list;
    this.queue.push({ handoff_id: list.handoffId, event: Object.assign({
      impression_id: list.impressionId, source: s.source, item_id: s.item_id, stage: s.stage || null,
      rank: s.rank, action: action }, extra || {}) });
    var self = this;
    if (!this.timer) this.timer = setTimeout(function () { self.flush(); }, FLUSH_MS);
  }

  /* Send what waits, one request per case and batch, in the background. */
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    var waiting = this.queue;
    this.queue = [];
    var byCase = {};
    waiting.forEach(function (q) { (byCase[q.handoff_id] = byCase[q.handoff_id] || []).push(q.event); });
    Object.keys(byCase).forEach(function (id) {
      var events = byCase[id];
      for (var i = 0; i < events.length; i += BATCH) {
        request("POST", "/api/assist/events", {
          key: this.api.key, keepalive: true, body: { handoff_id: Number(id), events: events.slice(i, i + BATCH) }
        }).catch(function (err) { console.warn("suggestion events not recorded:", err.message); });
      }
    }, this);
  }
}
