/* Shared by the agent console and the KB editor: API calls with the signed-in key, a DOM
 * builder that only ever sets text (never HTML), and the sign-in form. */
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v == null || v === false) return;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach(function (c) {
      if (c == null) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function Api(storageKey) { this.storageKey = storageKey; this.key = sessionStorage.getItem(storageKey); }
  Api.prototype.call = function (method, path, body) {
    var headers = { "Authorization": "Bearer " + this.key };
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.text().then(function (t) {
          var data = null;
          try { data = t ? JSON.parse(t) : null; } catch (e) { data = t; }
          if (!r.ok) {
            var detail = data && data.detail;
            if (Array.isArray(detail)) detail = detail.map(function (d) { return d.msg; }).join("；");
            var err = new Error(detail || ("HTTP " + r.status));
            err.status = r.status;
            throw err;
          }
          return data;
        });
      });
  };
  Api.prototype.signIn = function (key, roles) {
    var self = this;
    self.key = key;
    return self.call("GET", "/api/me").then(function (me) {
      if (roles.indexOf(me.role) < 0) {
        var err = new Error("该密钥的角色是 " + me.role + "，没有权限使用此页面"); err.status = 403; throw err;
      }
      sessionStorage.setItem(self.storageKey, key);
      return me;
    }, function (err) { self.key = null; throw err; });
  };
  Api.prototype.signOut = function () { sessionStorage.removeItem(this.storageKey); this.key = null; };

  /* Show the sign-in form until a key of one of `roles` is given, then call onReady(me). */
  function login(api, roles, onReady) {
    var form = document.getElementById("login");
    var input = document.getElementById("login-key");
    var error = document.getElementById("login-error");
    function ready(me) { form.hidden = true; document.getElementById("app").hidden = false; onReady(me); }
    if (api.key) {
      api.signIn(api.key, roles).then(ready, function () { api.signOut(); form.hidden = false; input.focus(); });
    } else { form.hidden = false; input.focus(); }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      error.textContent = "";
      api.signIn(input.value.trim(), roles).then(ready, function (err) {
        error.textContent = err.status === 401 ? "密钥无效或已被吊销" : err.message;
        input.select();
      });
    });
  }

  function toast(message, kind) {
    var box = document.getElementById("toast");
    box.textContent = message;
    box.className = "toast " + (kind || "ok");
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  function pct(x) { return (x * 100).toFixed(0) + "%"; }
  function time(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return d.toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  window.UI = { el: el, clear: clear, Api: Api, login: login, toast: toast, pct: pct, time: time };
})();
