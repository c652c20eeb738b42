/* The one way the staff pages (console, editor, reports) talk to the gateway's API: a JSON
 * body out, JSON (or text, or the response itself) back, and on any non-2xx status an ApiError
 * carrying the server's `detail` and the status. The embeddable widget (widget.js) stays a
 * self-contained classic script and does not use this. */

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/* The server's reason: FastAPI's `detail` (a string, or a list of validation errors). */
async function errorOf(response) {
  const text = await response.text();
  let detail = null;
  try { detail = text ? JSON.parse(text).detail : null; } catch (e) { detail = text; }
  if (Array.isArray(detail)) detail = detail.map((d) => d.msg).join("；");
  return new ApiError(detail || "HTTP " + response.status, response.status);
}

/* as: "json" (default; null for an empty body), "text", or "response" (the checked Response).
 * keepalive: the request outlives the page (background reports sent as the tab closes). */
export async function request(method, path, { key = null, body, as = "json", keepalive = false } = {}) {
  const headers = {};
  if (key) headers.Authorization = "Bearer " + key;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, keepalive,
                                       body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw await errorOf(response);
  if (as === "response") return response;
  const text = await response.text();
  if (as === "text") return text;
  return text ? JSON.parse(text) : null;
}

/* A page's signed-in API key (kept for the tab's session under `storageKey`) and its calls. */
export class Api {
  constructor(storageKey) {
    this.storageKey = storageKey;
    this.key = sessionStorage.getItem(storageKey);
  }

  call(method, path, body) { return request(method, path, { key: this.key, body }); }

  text(path) { return request("GET", path, { key: this.key, as: "text" }); }

  response(path) { return request("GET", path, { key: this.key, as: "response" }); }

  /* Check `key` with /api/me and keep it when its role is one of `roles`. */
  async signIn(key, roles) {
    this.key = key;
    let me;
    try { me = await this.call("GET", "/api/me"); } catch (err) { this.key = null; throw err; }
    if (!roles.includes(me.role)) {
      this.key = null;
      throw new ApiError("该密钥的角色是 " + me.role + "，没有权限使用此页面", 403);
    }
    sessionStorage.setItem(this.storageKey, key);
    return me;
  }

  signOut() { sessionStorage.removeItem(this.storageKey); this.key = null; }
}
