/* Server-sent events for the staff pages. An EventSource cannot send the API key as a header,
 * so each connection first trades the key for a short-lived stream ticket; when a stream drops
 * (the server ends streams after a few minutes, a replica restarts, the network blips) it is
 * opened again with a fresh ticket and the URL `path()` gives then (e.g. the last message id). */

/* handlers: event name -> function(data, event); onDenied(err) when the key is refused. */
export function stream(api, path, handlers, onDenied) {
  var source = null, closed = false, timer = null, retryMs = 300;

  function later() {
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 30000);
  }

  function connect() {
    if (closed) return;
    api.call("POST", "/api/stream-tickets").then(function (t) {
      if (closed) return;
      var url = path();
      source = new EventSource(url + (url.indexOf("?") < 0 ? "?" : "&") + "ticket=" + encodeURIComponent(t.ticket));
      Object.keys(handlers).forEach(function (name) {
        source.addEventListener(name, function (e) { if (!closed) handlers[name](JSON.parse(e.data), e); });
      });
      source.onopen = function () { retryMs = 300; };
      source.onerror = function () {  // ended or dropped: reconnect ourselves, with a fresh ticket
        source.close(); source = null;
        later();
      };
    }, function (err) {
      if ((err.status === 401 || err.status === 403) && onDenied) onDenied(err);
      else later();
    });
  }

  connect();
  return { close: function () { closed = true; clearTimeout(timer); if (source) source.close(); } };
}
