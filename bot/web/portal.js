// The sponsor portal: a page over the public /api/v1 (the same routes a sponsor's own program
// calls). It validates nothing itself: the API's 422 answers are shown beside each field.
// The API key lives in sessionStorage only (this tab), never in a cookie or localStorage.

import { $, el } from "./dom.js";
import { locale, number, setUpLanguage, t } from "./i18n.js";

const API = "/api/v1";
const KEY_STORAGE = "britizen.sponsorKey";
const REFRESH_MS = 3000;
const LIVE = new Set(["scheduled", "sending"]);
const SVG = "http://www.w3.org/2000/svg";

// What the portal shows for each status and count (the API's codes are the data attributes).
const STATUS = {
  scheduled: "Scheduled",
  sending: "Sending",
  completed: "Completed",
  cancelled: "Cancelled",
  expired: "Expired",
};
const COUNT = {
  targeted: "Targeted",
  sent: "Sent",
  queued: "Queued",
  redeemed: "Redeemed",
  failed: "Failed",
  unreachable: "Unreachable",
  uncertain: "Uncertain",
  cancelled: "Cancelled",
};
const statusText = (status) => (STATUS[status] ? t(STATUS[status]) : status);

// The API's field messages are English (its clients are programs); the portal shows the ones a
// sponsor can meet in this form in the page's language, matched by their stable wording.
const FIELD_MESSAGES = [
  [/^Field required$/, "Fill this in."],
  [/^String should have at least 1 character$/, "Fill this in."],
  [/^must not be empty$/, "Fill this in."],
  [/^String should have at most (\d+) characters?$/, "At most {n} characters."],
  [/^must be at most (\d+) characters as Telegram counts them/, "At most {n} characters (most emoji count as two)."],
  [/^Input should be less than or equal to (\d+)$/, "At most {n}."],
  [/^Input should be greater than or equal to (\d+)$/, "At least {n}."],
  [/^Input should be a valid integer/, "A whole number, please."],
  [/^must start with https:\/\//, "The link must start with https://."],
  [/^must not contain user info/, "The link must not contain a name and @ before the host."],
  [/^must name a host such as/, "The link must name a web address such as example.com."],
  [/^must be printable ASCII after the host/, "Spaces and special characters in the link must be percent-encoded."],
  [/^must be plain text/, "Plain text only: remove control or formatting characters."],
  [/^must be in the future$/, "Must be in the future."],
  [/^must be after starts_at$/, "Must be after the start."],
  [/^must be at most (\d+) days after the start$/, "At most {n} days after the start."],
  [/^must be within (\d+) days from now$/, "Within {n} days from now."],
  [/^List should have at most (\d+) items?/, "At most {n} districts."],
  [/^Input should be a valid datetime/, "Choose a date and time."],
];

function fieldMessage(message) {
  for (const [pattern, text] of FIELD_MESSAGES) {
    const match = pattern.exec(message);
    if (match) return t(text, { n: match[1] ? number(Number(match[1])) : "" });
  }
  // A message this page does not know yet: said in the page's language, the API's words after.
  return t("Not accepted: {reason}", { reason: message });
}

// The API's error codes (stable, unlike its English detail) -> what a person reads.
function problemText(problem) {
  switch (problem.body.error) {
    case undefined: return problem.status === 0 ? t("The server did not answer. Is Britizen running?") : t("The server gave an answer the portal did not understand (HTTP {status}).", { status: problem.status });
    case "unauthorized": return t("That key was not accepted. Check it and try again.");
    case "forbidden": return t("This key may not do that: use a sponsor key.");
    case "not_found": return t("That promotion no longer exists.");
    case "conflict": return t("That promotion can no longer be changed.");
    case "rate_limited": return tooMany(problem.retryAfter);
    case "payload_too_large": return t("The promotion is too long to send.");
    case "internal": return t("Something went wrong on the server (it was logged). Try again.");
    default: return t("The server refused the request ({code}).", { code: problem.body.error });
  }
}

function tooMany(retryAfter) {
  return retryAfter
    ? t("Too many requests: try again in {seconds} seconds.", { seconds: retryAfter })
    : t("Too many requests: try again in a few seconds.");
}

// A translated sentence with its {placeholders} in bold (text nodes, never markup).
function bold(english, values) {
  const text = t(english);
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(/\{([a-z_]+)\}/g)) {
    if (match.index > last) nodes.push(text.slice(last, match.index));
    nodes.push(el("b", { text: values[match[1]] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

const state = { key: null, sponsor: null, promotions: [], selected: null, detail: null, timer: 0, confirmCancel: false };

let toastTimer = 0;
function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 4000);
}

class ApiProblem extends Error {
  constructor(status, body, retryAfter) {
    super(body.detail || `HTTP ${status}`);
    // What a person reads: the page's language, picked by the API's error code.
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiProblem(0, {});
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problem = new ApiProblem(response.status, data, response.headers.get("Retry-After"));
    if (response.status === 401 && state.sponsor) {
      signOut(t("Your key is no longer accepted. Sign in again."));
    }
    throw problem;
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Signing in
// ---------------------------------------------------------------------------------------------

async function signIn(key, { quiet = false } = {}) {
  state.key = key;
  try {
    state.sponsor = await api("GET", "/sponsor");
  } catch (problem) {
    state.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    if (!quiet) {
      $("api-key-error").textContent = problemText(problem);
    }
    showSignIn();
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $("api-key").value = "";
  $("api-key-error").textContent = "";
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("who").hidden = false;
  showWho();
  $("sign-out").hidden = false;
  resetForm();
  await refresh();
}

function showWho() {
  if (state.sponsor) $("who").textContent = t("Signed in as {name}", { name: state.sponsor.name });
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  clearTimeout(state.timer);
  Object.assign(state, { key: null, sponsor: null, promotions: [], selected: null, detail: null });
  showSignIn();
  if (message) $("api-key-error").textContent = message;
}

function showSignIn() {
  $("workspace").hidden = true;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("api-key").focus();
}

// ---------------------------------------------------------------------------------------------
// Creating a promotion
// ---------------------------------------------------------------------------------------------

function pad(n) { return String(n).padStart(2, "0"); }

function localInputValue(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function isoWithOffset(localValue) {
  // A datetime-local value is the browser's local time; the API wants an explicit offset.
  const date = new Date(localValue);
  if (Number.isNaN(date.getTime())) return localValue;
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${localInputValue(date)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function numberOrRaw(value) {
  // Whole numbers go as numbers; anything else goes as typed, and the API says what is wrong.
  const trimmed = value.trim();
  if (trimmed === "") return null;
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function voucherKind() {
  return document.querySelector("input[name=voucher_kind]:checked").value;
}

function formBody() {
  const value = (id) => $(id).value;
  const label = value("button-label").trim();
  const url = value("button-url").trim();
  const districts = value("districts").split(/[\s,;]+/).map((d) => d.trim()).filter(Boolean);
  const kind = voucherKind();
  const vouchers = { kind };
  if (kind === "shared") vouchers.code = value("voucher-code").trim();
  if (kind === "unique") vouchers.count = numberOrRaw(value("voucher-count"));
  return {
    title: value("title").trim(),
    text: value("text").trim(),
    button: label || url ? { label, url } : null,
    audience: {
      min_band: value("min-band") || null,
      min_score: numberOrRaw(value("min-score")),
      postcode_districts: districts.length ? districts : null,
      max_recipients: numberOrRaw(value("max-recipients")),
    },
    starts_at: value("starts-at") ? isoWithOffset(value("starts-at")) : null,
    expires_at: value("expires-at") ? isoWithOffset(value("expires-at")) : null,
    vouchers,
    paid_broadcast: $("paid-broadcast")?.checked ?? false,
  };
}

// "about 3 h 20 min, finishing around 22 Nov, 14:05": the API's estimate, before anything is sent.
function describeEstimate(estimate) {
  if (!estimate) return "";
  const minutes = Math.ceil(estimate.sending_seconds / 60);
  const length = minutes < 60
    ? t("{minutes} min", { minutes: number(minutes) })
    : t("{hours} h {minutes} min", { hours: number(Math.floor(minutes / 60)), minutes: minutes % 60 });
  const values = { length, rate: number(estimate.send_rate), finish: formatTime(estimate.estimated_finish) };
  return " " + (estimate.quiet_hours
    ? t("Delivery: about {length} of sending between 08:00 and 21:00 at {rate} a second, finishing around {finish}.", values)
    : t("Delivery: about {length} at {rate} a second, finishing around {finish}.", values));
}

function clearErrors() {
  for (const field of document.querySelectorAll("#create-form .field")) {
    field.classList.remove("invalid");
    field.querySelector(".field-error").textContent = "";
  }
  for (const node of document.querySelectorAll("#create-form [data-error-for]")) node.textContent = "";
  $("form-error").hidden = true;
  $("form-error").textContent = "";
}

function showFieldErrors(fields) {
  // The API names each bad field by its dotted path ("audience.min_score", "button.url"); a
  // path deeper than the form ("audience.postcode_districts.1") belongs to its nearest field.
  const leftovers = [];
  let first = null;
  for (const [path, english] of Object.entries(fields)) {
    const message = fieldMessage(english);
    let target = null;
    const parts = path.split(".");
    while (parts.length && !target) {
      const name = parts.join(".");
      target = document.querySelector(`#create-form .field[data-field="${name}"]:not([hidden])`)
        || document.querySelector(`#create-form [data-error-for="${name}"]`);
      parts.pop();
    }
    if (!target) {
      leftovers.push(`${path}: ${message}`);
      continue;
    }
    if (target.classList.contains("field")) {
      target.classList.add("invalid");
      const slot = target.querySelector(".field-error");
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      first = first || target.querySelector("input, select, textarea");
    } else {
      target.textContent = message;
    }
  }
  if (leftovers.length) {
    $("form-error").textContent = leftovers.join("\n");
    $("form-error").hidden = false;
  }
  first?.focus();
}

async function createPromotion(event) {
  event.preventDefault();
  clearErrors();
  const button = $("create-button");
  button.disabled = true;
  button.textContent = t("Creating…");
  try {
    const promotion = await api("POST", "/promotions", formBody());
    const targeted = promotion.counts.targeted;
    const created = targeted === 1
      ? t("Created “{title}”: 1 person targeted.", { title: promotion.title })
      : t("Created “{title}”: {count} people targeted.", { title: promotion.title, count: number(targeted) });
    toast(created + describeEstimate(promotion.delivery_estimate));
    resetForm();
    state.selected = promotion.id;
    await refresh();
  } catch (problem) {
    if (problem.status === 422 && problem.body.fields) {
      showFieldErrors(problem.body.fields);
    } else if (problem.status === 429) {
      $("form-error").textContent = tooMany(problem.retryAfter);
      $("form-error").hidden = false;
    } else if (problem.status !== 401) {
      $("form-error").textContent = problemText(problem);
      $("form-error").hidden = false;
    }
  } finally {
    button.disabled = false;
    button.textContent = t("Create promotion");
  }
}

function resetForm() {
  $("create-form").reset();
  clearErrors();
  const week = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  $("expires-at").value = localInputValue(week);
  updateVoucherFields();
  updateCounter();
}

function updateVoucherFields() {
  const kind = voucherKind();
  $("voucher-code-field").hidden = kind !== "shared";
  $("voucher-count-field").hidden = kind !== "unique";
}

function updateCounter() {
  const length = $("text").value.length;
  const counter = $("text-counter");
  counter.textContent = `${length} / 3500`;
  counter.classList.toggle("over", length > 3500);
}

// ---------------------------------------------------------------------------------------------
// Promotions, live
// ---------------------------------------------------------------------------------------------

function formatTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(locale(), { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function progressBar(counts) {
  const total = Math.max(counts.targeted, 1);
  const bar = el("div", {
    class: "progress",
    role: "progressbar",
    "aria-valuemin": "0",
    "aria-valuemax": String(counts.targeted),
    "aria-valuenow": String(counts.sent),
    "aria-label": t("{sent} of {targeted} sent", { sent: number(counts.sent), targeted: number(counts.targeted) }),
  });
  for (const part of ["sent", "failed", "unreachable"]) {
    const segment = el("span", { class: part });
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    segment.style.width = `${(100 * (counts[part] || 0)) / total}%`;
    bar.append(segment);
  }
  return bar;
}

function renderList() {
  const list = $("promotions");
  list.replaceChildren();
  $("no-promotions").hidden = state.promotions.length > 0;
  for (const promotion of state.promotions) {
    const c = promotion.counts;
    const item = el("button", {
      type: "button",
      class: "promotion",
      "data-id": promotion.id,
      "aria-current": promotion.id === state.selected ? "true" : "false",
      onclick: () => select(promotion.id),
    },
    el("div", { class: "head" },
      el("span", { class: "title", text: promotion.title }),
      el("span", { class: `status status-${promotion.status}`, text: statusText(promotion.status) })),
    progressBar(c),
    el("div", { class: "counts" },
      el("span", { class: "count-sent" }, ...bold("{sent} / {targeted} sent", { sent: number(c.sent), targeted: number(c.targeted) })),
      el("span", {}, ...bold("{n} queued", { n: number(c.queued) })),
      el("span", {}, ...bold("{n} redeemed", { n: number(c.redeemed) })),
      c.failed ? el("span", {}, ...bold("{n} failed", { n: number(c.failed) })) : null,
      c.unreachable ? el("span", {}, ...bold("{n} unreachable", { n: number(c.unreachable) })) : null,
      el("span", { text: t("ends {time}", { time: formatTime(promotion.expires_at) }) })));
    list.append(el("li", {}, item));
  }
}

function chart(perMinute) {
  // Sends per minute as bars, gaps filled with zero, the latest hour at most.
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 600 200");
  svg.setAttribute("role", "img");
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  const points = [];
  if (perMinute.length) {
    const byMinute = new Map(perMinute.map((p) => [Math.floor(Date.parse(p.minute) / 60000), p.count]));
    const minutes = [...byMinute.keys()];
    const last = Math.max(...minutes);
    const first = Math.max(Math.min(...minutes), last - 59);
    for (let m = first; m <= last; m += 1) points.push({ minute: m, count: byMinute.get(m) || 0 });
  }
  const total = points.reduce((sum, p) => sum + p.count, 0);
  svg.setAttribute("aria-label", t("Sends per minute: {total} over {minutes} minute(s)", { total: number(total), minutes: number(points.length) }));
  const left = 44, right = 590, top = 12, bottom = 170;
  add("line", { class: "axis", x1: left, y1: bottom, x2: right, y2: bottom });
  add("line", { class: "axis", x1: left, y1: top, x2: left, y2: bottom });
  if (!points.length) {
    add("text", { x: (left + right) / 2, y: (top + bottom) / 2, "text-anchor": "middle" }, t("Nothing sent yet"));
    return svg;
  }
  const max = Math.max(...points.map((p) => p.count), 1);
  add("text", { x: left - 6, y: top + 4, "text-anchor": "end" }, number(max));
  add("text", { x: left - 6, y: bottom, "text-anchor": "end" }, 0);
  // At least 15 slots, so a new promotion's first minute is a bar, not a wall.
  const slot = (right - left) / Math.max(points.length, 15);
  const label = (m) => new Date(m * 60000).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
  points.forEach((p, i) => {
    const height = ((bottom - top) * p.count) / max;
    const bar = add("rect", {
      class: "bar",
      x: left + i * slot + slot * 0.15,
      y: bottom - height,
      width: Math.max(slot * 0.7, 1),
      height,
      rx: 2,
    });
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = t("{time}: {count} sent", { time: label(p.minute), count: number(p.count) });
    bar.append(tip);
  });
  const ticks = points.length === 1 ? [0] : [0, Math.floor((points.length - 1) / 2), points.length - 1];
  for (const i of new Set(ticks)) {
    add("text", { x: left + i * slot + slot / 2, y: bottom + 18, "text-anchor": "middle" }, label(points[i].minute));
  }
  add("text", { x: right, y: bottom + 30, "text-anchor": "end" }, t("sends per minute"));
  return svg;
}

function audienceText(audience) {
  const parts = [];
  if (audience.min_band) parts.push(t("band {band} or better", { band: t(audience.min_band) }));
  if (audience.min_score) parts.push(t("score ≥ {score}", { score: audience.min_score }));
  if (audience.postcode_districts && audience.postcode_districts.length) parts.push(t("in {districts}", { districts: audience.postcode_districts.join(", ") }));
  if (audience.max_recipients) parts.push(t("at most {count}", { count: number(audience.max_recipients) }));
  return parts.length ? t("Opted-in citizens, {conditions}", { conditions: parts.join(", ") }) : t("Every opted-in citizen");
}

function voucherText(vouchers) {
  if (vouchers.kind === "shared") return t("One code for everyone: {code}", { code: vouchers.code });
  if (vouchers.kind === "unique") return t("{count} unique codes", { count: number(vouchers.count) });
  return t("None");
}

function renderDetail() {
  const box = $("detail");
  const p = state.detail;
  if (!p) { box.hidden = true; box.replaceChildren(); return; }
  const c = p.counts;
  const stat = (n, l, cls) => el("div", { class: `stat ${cls || ""}`, "data-count": l }, el("div", { class: "n", text: number(n) }), el("div", { class: "l", text: t(COUNT[l]) }));
  const actions = el("div", { class: "detail-actions" });
  if (LIVE.has(p.status)) {
    if (state.confirmCancel) {
      actions.append(
        el("button", { type: "button", class: "danger", id: "confirm-cancel", text: t("Yes, cancel it: nothing more is sent"), onclick: () => cancelPromotion(p.id) }),
        el("button", { type: "button", class: "secondary", text: t("Keep it"), onclick: () => { state.confirmCancel = false; renderDetail(); } }),
      );
    } else {
      actions.append(el("button", { type: "button", class: "secondary", id: "cancel-promotion", text: t("Cancel promotion"), onclick: () => { state.confirmCancel = true; renderDetail(); } }));
    }
  }
  box.replaceChildren(
    el("div", { class: "head" },
      el("h3", { text: p.title }),
      el("span", { class: `status status-${p.status}`, id: "detail-status", text: statusText(p.status) })),
    el("div", { class: "body", text: p.text }),
    el("dl", {},
      el("dt", { text: t("Audience") }), el("dd", { text: audienceText(p.audience) }),
      el("dt", { text: t("Runs") }), el("dd", { text: `${formatTime(p.starts_at)} – ${formatTime(p.expires_at)}` }),
      el("dt", { text: t("Button") }), el("dd", { text: p.button ? `${p.button.label} → ${p.button.url}` : t("None") }),
      el("dt", { text: t("Vouchers") }), el("dd", { text: voucherText(p.vouchers) })),
    progressBar(c),
    el("div", { class: "stat-grid" },
      stat(c.targeted, "targeted"), stat(c.sent, "sent"), stat(c.queued, "queued"), stat(c.redeemed, "redeemed"),
      stat(c.failed, "failed"), stat(c.unreachable, "unreachable"), stat(c.uncertain, "uncertain"), stat(c.cancelled, "cancelled")),
    chart(p.sent_per_minute || []),
    actions,
  );
  box.hidden = false;
}

async function select(id) {
  state.selected = id;
  state.confirmCancel = false;
  renderList();
  await refreshDetail();
}

async function refreshDetail() {
  if (state.selected === null) { state.detail = null; renderDetail(); return; }
  try {
    state.detail = await api("GET", `/promotions/${state.selected}`);
  } catch (problem) {
    if (problem.status === 404) { state.selected = null; state.detail = null; }
    else throw problem;
  }
  renderDetail();
}

async function cancelPromotion(id) {
  try {
    state.detail = await api("DELETE", `/promotions/${id}`);
    state.confirmCancel = false;
    toast(t("Cancelled: nothing more will be sent."));
    await refresh();
  } catch (problem) {
    if (problem.status !== 401) toast(t("Could not cancel it: {reason}", { reason: problemText(problem) }));
  }
}

async function refresh() {
  clearTimeout(state.timer);
  if (!state.key) return;
  try {
    const data = await api("GET", "/promotions");
    state.promotions = data.promotions;
    if (state.selected === null && state.promotions.length) state.selected = state.promotions[0].id;
    renderList();
    await refreshDetail();
    $("refreshed").textContent = t("Updated {time}", { time: new Date().toLocaleTimeString(locale()) });
  } catch (problem) {
    if (problem.status === 401) return;
    $("refreshed").textContent = problem.status === 429 ? t("Paused: too many requests") : t("Not updated: {reason}", { reason: problemText(problem) });
  }
  // Live counts while anything can still change; a slower look otherwise.
  const live = state.promotions.some((p) => LIVE.has(p.status) || (p.status === "completed" && p.counts.queued));
  state.timer = setTimeout(refresh, live ? REFRESH_MS : REFRESH_MS * 5);
}

// ---------------------------------------------------------------------------------------------

function main() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) {
      $("api-key-error").textContent = t("Paste your API key first.");
      return;
    }
    signIn(key);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("create-form").addEventListener("submit", createPromotion);
  $("text").addEventListener("input", updateCounter);
  for (const radio of document.querySelectorAll("input[name=voucher_kind]")) radio.addEventListener("change", updateVoucherFields);
  document.addEventListener("visibilitychange", () => { if (!document.hidden && state.key) refresh(); });

  // The sandbox page links here with the demo key in the fragment, which never leaves the
  // browser; it moves to sessionStorage and out of the address bar at once.
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("key");
  if (fromLink) history.replaceState(null, "", location.pathname);
  const key = fromLink || sessionStorage.getItem(KEY_STORAGE);
  if (key) signIn(key, { quiet: !fromLink });
  else showSignIn();
}

main();
// Text built at runtime is built again in the new language.
document.addEventListener("britizen:language", () => {
  showWho();
  if (state.key) { renderList(); renderDetail(); }
});
setUpLanguage("portal");
