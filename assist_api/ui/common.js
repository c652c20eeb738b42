/* Shared by the staff pages (console, editor, reports): a DOM builder that only ever sets text
 * (never HTML), the sign-in form, the toast and number/time formats. API calls: api.js. */

export function el(tag, attrs, children) {
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

export function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

/* Show the sign-in form until a key of one of `roles` is given, then call onReady(me). */
export function login(api, roles, onReady) {
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

export function toast(message, kind) {
  var box = document.getElementById("toast");
  box.textContent = message;
  box.className = "toast " + (kind || "ok");
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(function () { box.hidden = true; }, 4000);
}

export function pct(x) { return (x * 100).toFixed(0) + "%"; }
export function time(iso) {
  if (!iso) return "";
  var d = new Date(iso);
  return d.toLocaleString("zh-CN", { hour12: false, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
