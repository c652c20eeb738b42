/* The platform's label names for the staff pages, fetched from the gateway (GET /api/labels,
 * served from common/labels.yaml, the one source): for each kind (category, priority, reason,
 * status, …) its values in display order and their Chinese names. */
import { request } from "./api.js";
import { el, toast } from "./common.js";

export class Labels {
  constructor(kinds) { this.kinds = kinds || {}; }

  /* The Chinese name of a value; the value itself when the source has none, "—" for none. */
  name(kind, value) {
    var names = this.kinds[kind];
    return (names && names[value]) || value || "—";
  }

  values(kind) { return Object.keys(this.kinds[kind] || {}); }

  /* One <option> per value of `kind`, added after what the <select> already holds ("全部…"). */
  addOptions(select, kind) {
    this.values(kind).forEach(function (value) {
      select.appendChild(el("option", { value: value, text: this.name(kind, value) }));
    }, this);
  }
}

/* The labels, or, when the gateway cannot be reached, none (the pages then show the values). */
export async function loadLabels() {
  try {
    return new Labels(await request("GET", "/api/labels"));
  } catch (err) {
    toast("标签名称加载失败：" + err.message, "error");
    return new Labels({});
  }
}
