// The operator page: the growth report from GET /api/v1/operator/growth, drawn as SVG here
// (no chart library, nothing from a CDN). Only an operator key (bz_op_...) opens it; the key
// lives in sessionStorage only (this tab), never in a cookie or localStorage.

import { $, el } from "./dom.js";

const API = "/api/v1";
const KEY_STORAGE = "britizen.operatorKey";
const SVG = "http://www.w3.org/2000/svg";
const STAGES = [
  ["innovators", "Innovators (< 2.5 %)", 0.025],
  ["early_adopters", "Early adopters (< 16 %)", 0.16],
  ["early_majority", "Early majority (< 50 %)", 0.5],
  ["late_majority", "Late majority (< 84 %)", 0.84],
  ["laggards", "Laggards", 1],
];
const STAGE_NAMES = Object.fromEntries(STAGES.map(([id, label]) => [id, label.replace(/ \(.*/, "")]));

const state = { key: null, operator: null, report: null };

class ApiProblem extends Error {
  constructor(status, body) {
    super(body.detail || `HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, key = state.key) {
  let response;
  try {
    response = await fetch(API + path, { headers: { Authorization: `Bearer ${key}` } });
  } catch {
    throw new ApiProblem(0, { detail: "The server did not answer. Is Britizen running?" });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiProblem(response.status, data);
  return data;
}

// ---------------------------------------------------------------------------------------------
// Signing in
// ---------------------------------------------------------------------------------------------

async function signIn(key, { quiet = false } = {}) {
  try {
    state.operator = await api("/operator", key);
  } catch (problem) {
    sessionStorage.removeItem(KEY_STORAGE);
    // The API names a sponsor's or partner's key as such: show its words.
    if (!quiet) $("api-key-error").textContent = problem.message;
    showSignIn();
    return;
  }
  state.key = key;
  sessionStorage.setItem(KEY_STORAGE, key);
  $("api-key").value = "";
  $("api-key-error").textContent = "";
  $("sign-in").hidden = true;
  $("who").hidden = false;
  $("who").textContent = `Signed in as ${state.operator.name}`;
  $("sign-out").hidden = false;
  await load();
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  Object.assign(state, { key: null, operator: null, report: null });
  showSignIn();
}

async function showSignIn() {
  $("report").hidden = true;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("api-key").focus();
  // In sandbox mode the demo operator key is one click away (the route exists only there).
  try {
    const response = await fetch("/sandbox/api/state");
    if (!response.ok) return;
    const sandbox = await response.json();
    const demo = sandbox.operator && sandbox.operator.api_key;
    if (demo) {
      const button = $("demo-key");
      button.hidden = false;
      button.onclick = () => signIn(demo);
    }
  } catch { /* not the sandbox */ }
}

async function load() {
  try {
    state.report = await api("/operator/growth");
  } catch (problem) {
    if (problem.status === 401) {
      signOut();
      $("api-key-error").textContent = problem.message;
      return;
    }
    $("totals").textContent = problem.message;
    $("report").hidden = false;
    return;
  }
  render(state.report);
}

// ---------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------

const number = (n) => (n === null ? `< ${state.report.min_count}` : n.toLocaleString("en-GB"));
const percent = (f, digits = 1) => (f === null ? "–" : `${(f * 100).toFixed(digits)} %`);
const day = (iso) => new Date(`${iso}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });

function svgCanvas(width, height, label) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  const tip = (node, text) => {
    const title = document.createElementNS(SVG, "title");
    title.textContent = text;
    node.append(title);
  };
  return { svg, add, tip };
}

function overTimeChart(weeks) {
  const last = weeks[weeks.length - 1];
  const { svg, add, tip } = svgCanvas(600, 230, `Registered citizens week by week: ${last ? last.registered : 0} now`);
  const left = 56, right = 590, top = 14, bottom = 190;
  add("line", { class: "axis", x1: left, y1: bottom, x2: right, y2: bottom });
  add("line", { class: "axis", x1: left, y1: top, x2: left, y2: bottom });
  const max = Math.max(1, ...weeks.map((w) => Math.max(w.registered, w.active)));
  add("text", { x: left - 6, y: top + 4, "text-anchor": "end" }, max.toLocaleString("en-GB"));
  add("text", { x: left - 6, y: bottom, "text-anchor": "end" }, 0);
  const slot = (right - left) / Math.max(weeks.length, 1);
  const y = (n) => bottom - ((bottom - top) * n) / max;
  const points = [];
  weeks.forEach((w, i) => {
    const x = left + i * slot;
    const bar = add("rect", { class: "active", x: x + slot * 0.2, y: y(w.active), width: slot * 0.6, height: bottom - y(w.active), "data-week": w.end });
    tip(bar, `Week to ${day(w.end)}: ${w.active} active`);
    points.push([x + slot / 2, y(w.registered)]);
  });
  if (points.length) {
    add("polyline", { class: "line", points: points.map((p) => p.join(",")).join(" ") });
    points.forEach(([px, py], i) => tip(add("circle", { class: "dot", cx: px, cy: py, r: 3.5 }), `${day(weeks[i].end)}: ${weeks[i].registered} registered`));
  }
  const ticks = weeks.length <= 1 ? [0] : [0, Math.floor((weeks.length - 1) / 2), weeks.length - 1];
  for (const i of new Set(ticks)) {
    if (weeks[i]) add("text", { x: left + i * slot + slot / 2, y: bottom + 18, "text-anchor": "middle" }, day(weeks[i].end));
  }
  return svg;
}

function funnelChart(funnel) {
  const steps = [["Links made", funnel.links_made], ["Opened", funnel.opened], ["Registered", funnel.registered], ["Verified", funnel.verified]];
  const { svg, add } = svgCanvas(600, 170, `Referral funnel: ${steps.map(([l, n]) => `${l} ${n}`).join(", ")}`);
  const left = 100, right = 520, max = Math.max(1, ...steps.map(([, n]) => n));
  steps.forEach(([label, n], i) => {
    const yTop = 12 + i * 38;
    add("text", { x: left - 8, y: yTop + 19, "text-anchor": "end" }, label);
    add("rect", { class: "funnel", x: left, y: yTop, width: Math.max(((right - left) * n) / max, 1), height: 26, rx: 3 });
    add("text", { class: "value", x: left + Math.max(((right - left) * n) / max, 1) + 6, y: yTop + 19 }, n.toLocaleString("en-GB"));
  });
  return svg;
}

function shareChart(areas, median) {
  // Areas with a population, highest share first; stage boundaries as dashed lines.
  const rows = areas.filter((a) => a.population !== null).sort((a, b) => (b.share ?? -1) - (a.share ?? -1) || a.area.localeCompare(b.area));
  // As wide as the card, so a dozen areas read at the size of the other charts' text.
  const rowHeight = 22, top = 22, left = 60, right = 1040;
  const { svg, add, tip } = svgCanvas(1200, top + rows.length * rowHeight + 24, `Adoption share by postcode area, ${rows.length} areas`);
  if (!rows.length) {
    add("text", { x: 600, y: 30, "text-anchor": "middle" }, "No population file: shares need BRITIZEN_POPULATION_FILE");
    return svg;
  }
  const highest = Math.max(0, ...rows.map((a) => a.share ?? 0));
  const scale = Math.min(1, Math.max(0.05, highest * 1.15));
  const x = (f) => left + ((right - left) * Math.min(f, scale)) / scale;
  const bottom = top + rows.length * rowHeight;
  for (const [, label, bound] of STAGES) {
    if (bound < scale) {
      add("line", { class: "grid", x1: x(bound), y1: top - 6, x2: x(bound), y2: bottom });
      add("text", { x: x(bound), y: top - 9, "text-anchor": "middle" }, percent(bound, bound < 0.1 ? 1 : 0));
    }
  }
  rows.forEach((a, i) => {
    const yTop = top + i * rowHeight;
    add("text", { x: left - 8, y: yTop + 15, "text-anchor": "end" }, a.area);
    const width = a.share === null ? 0 : Math.max(x(a.share) - left, 1);
    const bar = add("rect", { class: `stage-${a.stage || "none"}`, x: left, y: yTop + 3, width, height: rowHeight - 7, rx: 2, "data-area": a.area });
    tip(bar, `${a.area}: ${percent(a.share)} of ${a.population.toLocaleString("en-GB")}, ${STAGE_NAMES[a.stage] || "no stage"}`);
    add("text", { class: "value", x: left + width + 5, y: yTop + 15 }, a.share === null ? `< ${state.report.min_count} people` : percent(a.share));
  });
  if (median !== null) {
    add("line", { class: "axis", x1: x(median), y1: top - 2, x2: x(median), y2: bottom + 2 });
    add("text", { x: x(median), y: bottom + 16, "text-anchor": "middle" }, `median ${percent(median)}`);
  }
  return svg;
}

function render(report) {
  $("report").hidden = false;
  $("computed").textContent = `computed ${new Date(report.computed_at).toLocaleString("en-GB")}`;
  $("totals").textContent = `${report.registered.toLocaleString("en-GB")} registered · ${report.verified.toLocaleString("en-GB")} verified`;
  const note = $("population-note");
  note.hidden = !(report.population_error || !report.population_file);
  note.textContent = report.population_error
    ? `Population file not used: ${report.population_error}`
    : "No population file is set (BRITIZEN_POPULATION_FILE): adoption shares and stages are left out.";
  $("over-time-chart").replaceChildren(overTimeChart(report.weeks));
  $("funnel-chart").replaceChildren(funnelChart(report.funnel));
  $("share-chart").replaceChildren(shareChart(report.areas, report.median_share));
  $("legend").replaceChildren(...STAGES.map(([id, label]) => el("li", {}, el("span", { class: `swatch stage-${id}` }), label)));
  $("median").textContent = report.median_share === null ? "No shares to compare." : `Median adoption share: ${percent(report.median_share)}`;
  $("below").replaceChildren(...report.below_median.map((g) => el("li", {},
    el("b", { text: g.area }), ` ${percent(g.share)}`,
    g.gap === null ? "" : `, ${(g.gap * 100).toFixed(1)} points below`, " ",
    el("span", { class: `pill stage-${g.stage}`, text: STAGE_NAMES[g.stage] }))));
  const body = $("areas").querySelector("tbody");
  body.replaceChildren(...report.areas.map((a) => el("tr", { "data-area": a.area },
    el("td", { text: a.area }), el("td", { text: number(a.verified) }),
    el("td", { text: number(a.new_7d) }), el("td", { text: percent(a.growth_7d) }),
    el("td", { text: number(a.new_28d) }), el("td", { text: percent(a.growth_28d) }),
    el("td", { text: a.population === null ? "–" : a.population.toLocaleString("en-GB") }),
    el("td", { text: percent(a.share) }),
    el("td", {}, a.stage ? el("span", { class: `pill stage-${a.stage}`, text: STAGE_NAMES[a.stage] }) : "–"))));
  $("small-note").textContent = `Counts of 1 to ${report.min_count - 1} people are shown as “< ${report.min_count}”, with the figures that would give them back.`;
}

// ---------------------------------------------------------------------------------------------

function main() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) {
      $("api-key-error").textContent = "Paste your operator key first.";
      return;
    }
    signIn(key);
  });
  $("sign-out").addEventListener("click", () => signOut());
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("key");
  if (fromLink) history.replaceState(null, "", location.pathname);
  const key = fromLink || sessionStorage.getItem(KEY_STORAGE);
  if (key) signIn(key, { quiet: !fromLink });
  else showSignIn();
}

main();
