// The dashboard: a few pages rendered from hubd's JSON API (/api/…), Chinese by default,
// English with ?lang=en (remembered). No build step: plain browser JavaScript.
// When a page has rendered its data, <body data-ready="PAGE"> tells tests and printers so.
"use strict";

const params = new URLSearchParams(location.search);
if (params.get("lang")) localStorage.setItem("hub.lang", params.get("lang"));
const lang = (params.get("lang") || localStorage.getItem("hub.lang")) === "en" ? "en" : "zh";
const T = window.HUB_I18N[lang];
const numberFormat = new Intl.NumberFormat(T.locale);
const percentFormat = new Intl.NumberFormat(T.locale, { style: "percent", maximumFractionDigits: 1 });
const moneyFormat = new Intl.NumberFormat(T.locale, { style: "currency", currency: "CNY" });
const charts = [];

const num = (n) => numberFormat.format(n);
const pct = (x) => percentFormat.format(x);
const yuan = (fen) => moneyFormat.format(fen / 100);
const when = (ms) => (ms ? new Date(ms).toLocaleString(T.locale) : T.none);
const duration = (ms) => (ms < 1000 ? `${num(ms)} ms` : `${num(Math.round(ms / 100) / 10)} s`);
const named = (item) => (lang === "zh" ? item.name_zh : item.name_en) || item.id || item.policy_id;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function table(headers, rows, attrs = {}) {
  return el("table", attrs, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
            el("tbody", {}, rows));
}

// Who is logged in (GET /api/session): {user, role, department, villages, csrf_token}, or
// null before the first answer. Error texts are the hub's: Chinese first, the English beside.
let session = null;

class ApiError extends Error {
  constructor(error) {
    super(error.message);  // the hub's messages are Chinese first, with the English beside
    this.code = error.code;
  }
}

async function api(path) {
  const response = await fetch(path, { cache: "no-store", credentials: "same-origin" });
  const body = await response.json();
  if (!body.ok) {
    if (body.error.code === "unauthorized" || body.error.code === "session_ended") showLogin(body.error.code === "session_ended" ? body.error.message : "");
    throw new ApiError(body.error);
  }
  return body;
}

// "评议结果 (status)": an event field's Chinese name first, the wire name beside.
function fieldText(field) {
  const zh = (window.HUB_WIRE_WORDS.fields[field] || {})[lang];
  return zh && zh !== field ? `${zh} (${field})` : field;
}

// "季度无效 / invalid_quarter": what an error code means in the page's language, the code beside.
function codeText(code) {
  const text = (window.HUB_WIRE_WORDS.codes[code] || {})[lang];
  return text ? `${text} / ${code}` : code;
}

// A refusal of the hub as one line: "季度无效 / invalid_quarter · 季度 (quarter): <the wire's
// English text>", so a clerk reads it in Chinese and the English beside is the wire's own.
function errorText(error) {
  return `${codeText(error.code)}${error.field ? ` · ${fieldText(error.field)}` : ""}: ${error.message}`;
}

// A write: JSON body, the session's CSRF token in X-CSRF-Token.
async function post(path, data) {
  const headers = { "Content-Type": "application/json" };
  if (session && session.csrf_token) headers["X-CSRF-Token"] = session.csrf_token;
  const response = await fetch(path, { method: "POST", headers, credentials: "same-origin", body: JSON.stringify(data) });
  return response.json();
}

const isAdmin = () => !session || !session.user || session.role === "admin";
const readsEverything = () => !session || !session.user || session.role === "admin" || session.role === "supervisor";

function showLogin(message) {
  const page = document.getElementById("page");
  const user = el("input", { id: "login-user", name: "username", autocomplete: "username", required: "" });
  const password = el("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: "" });
  const error = el("p", { class: "error", id: "login-error" }, message || "");
  if (!message) error.hidden = true;
  const submit = async (e) => {
    e.preventDefault();
    const body = await post("/api/login", { user: user.value.trim(), password: password.value });
    if (body.ok) { session = body; password.value = ""; showWho(); location.hash = location.hash || "#/"; render(); return; }
    error.hidden = false;
    error.dataset.code = body.error.code;
    error.textContent = body.error.message;  // Chinese first, with the English beside, from the hub
  };
  document.querySelector("nav").hidden = true;
  page.replaceChildren(el("form", { id: "login", class: "login", onsubmit: submit },
    el("h2", {}, T.login_title),
    el("label", {}, T.user_name, el("br"), user), el("label", {}, T.password, el("br"), password),
    el("button", { type: "submit", id: "login-submit" }, T.log_in), error, el("p", { class: "note" }, T.login_note)));
  document.body.dataset.ready = "login";
}

function showWho() {
  const who = document.getElementById("who"), logout = document.getElementById("logout");
  const nav = document.querySelector("nav");
  nav.hidden = false;
  if (!session || !session.user) { who.hidden = true; logout.hidden = true; return; }
  const scope = session.department || (session.villages || []).join(", ");
  who.textContent = `${T.logged_in_as}: ${session.user} (${T[`role_${session.role}`] || session.role}${scope ? ` · ${scope}` : ""})`;
  who.dataset.user = session.user;
  who.dataset.role = session.role;
  who.hidden = false;
  logout.hidden = false;
  // What the role may not do is not shown (the API refuses it all the same).
  nav.querySelector('[data-page="parked"]').hidden = !readsEverything();
  nav.querySelector('[data-page="notices"]').hidden = session.role === "department";
  nav.querySelector('[data-page="import"]').hidden = !(session.role === "clerk" || session.role === "admin");
  nav.querySelector('[data-page="reconcile"]').hidden = !(readsEverything() || (session.role === "clerk" && !(session.villages || []).length));
}

function chart(canvas, config) {
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
  charts.push(new Chart(canvas, config));
}

function chartBox(title, id) {
  return el("figure", { class: "chart" }, el("figcaption", {}, title), el("div", { class: "canvas" }, el("canvas", { id })));
}

// Overview: per department delivered, pending, failed, parked, lag, last delivery; charts of
// deliveries and lag over the last hour (from the ledger, /api/timeline).
async function overview(page) {
  const [status, timeline] = await Promise.all([api("/api/status"), api("/api/timeline?minutes=60")]);
  const rows = status.departments.map((d) =>
    el("tr", { "data-department": d.id, "data-delivered": d.delivered, "data-lag": d.lag },
       el("td", { class: "name" }, named(d)),
       el("td", { class: `state state-${d.state}`, title: d.last_error || "" }, T[`state_${d.state}`] || d.state),
       el("td", {}, d.plugin_version || T.none),
       el("td", { class: "n delivered" }, num(d.delivered)),
       el("td", { class: "n pending" }, num(d.lag)),
       el("td", { class: "n failed" }, num(d.failed)),
       el("td", { class: "n parked" }, num(d.parked)),
       el("td", { class: "n" }, d.lag ? duration(d.oldest_undelivered_ms) : "0"),
       el("td", {}, when(d.last_delivery_at_ms))));
  page.append(
    el("h2", {}, T.nav_overview),
    el("p", {}, `${T.last_seq}: ${num(status.last_seq)}`),
    table([T.department, T.state, T.version, T.delivered, T.pending, T.failed, T.parked, T.oldest, T.last_delivery], rows,
          { id: "departments" }),
    el("div", { class: "charts" }, chartBox(T.chart_delivered, "chart-delivered"),
       chartBox(T.chart_deliveries_time, "chart-deliveries"), chartBox(T.chart_lag, "chart-lag")));
  chart(document.getElementById("chart-delivered"), {
    type: "bar",
    data: { labels: status.departments.map(named), datasets: [{ label: T.delivered, data: status.departments.map((d) => d.delivered), backgroundColor: "#2f6db5" }] },
  });
  const minutes = timeline.minutes.map((t) => new Date(t).toLocaleTimeString(T.locale, { hour: "2-digit", minute: "2-digit" }));
  const series = (key) => timeline.departments.map((d) => ({ label: named(d), data: d[key], pointRadius: 0 }));
  chart(document.getElementById("chart-deliveries"), { type: "line", data: { labels: minutes, datasets: series("deliveries") } });
  chart(document.getElementById("chart-lag"), { type: "line", data: { labels: minutes, datasets: series("lag") } });
  // Refresh every 30 s while the overview is shown.
  setTimeout(() => { if (location.hash === "" || location.hash === "#/") render(); }, 30000);
}

// Villages: the quarterly report for the town or one village.
async function villages(page, query) {
  const { quarters } = await api("/api/quarters");
  const quarter = query.get("quarter") || quarters[quarters.length - 1];
  const village = query.get("village") || "";
  if (!quarter) return page.append(el("p", {}, T.none));
  const scope = `quarter=${encodeURIComponent(quarter)}${village ? `&village=${encodeURIComponent(village)}` : ""}`;
  const report = await api(`/api/report?${scope}`);

  const go = () => { location.hash = `#/villages?quarter=${qSelect.value}${vSelect.value ? `&village=${vSelect.value}` : ""}`; };
  const qSelect = el("select", { id: "quarter", onchange: go }, quarters.map((q) => el("option", q === quarter ? { selected: "" } : {}, q)));
  const allVillages = JSON.parse(sessionStorage.getItem("hub.villages") || "[]");
  if (!village) sessionStorage.setItem("hub.villages", JSON.stringify(report.villages.map((v) => v.village)));
  const vSelect = el("select", { id: "village", onchange: go }, el("option", { value: "" }, T.all_villages),
                     (village ? [...new Set([...allVillages, village])].sort() : report.villages.map((v) => v.village)).map((v) => el("option", v === village ? { selected: "" } : {}, v)));

  const s = report.statuses;
  page.append(
    el("h2", {}, `${T.nav_villages} · ${quarter} · ${village || T.all_villages}`),
    el("div", { class: "controls" }, el("label", {}, T.quarter, " ", qSelect), el("label", {}, T.village, " ", vSelect),
       el("a", { href: `/api/report?${scope}&format=csv`, download: "" }, T.download_csv)),
    el("dl", { class: "summary", id: "summary" },
       el("dt", {}, T.households), el("dd", { "data-households": report.households }, num(report.households)),
       el("dt", {}, T.signed), el("dd", {}, `${num(report.commitments.signed)} / ${num(report.commitments.due)} (${pct(report.commitments.rate)})`),
       ["credit", "non_credit", "breach", "unevaluated"].map((k) => [el("dt", {}, T[k]), el("dd", { [`data-${k}`]: s[k] }, num(s[k]))])),
    el("h3", {}, T.departments_section));

  const kinds = ["apply", "defer", "withhold", "release", "restore", "not_applicable"];
  const deptRows = report.departments.flatMap((d) => d.policies.map((p, i) =>
    el("tr", { "data-department": d.id, "data-policy": p.policy_id },
       i === 0 ? el("td", { rowspan: d.policies.length }, named(d)) : [],
       el("td", {}, named(p)),
       kinds.map((k) => el("td", { class: "n" }, num(p[k].count), p.money && p[k].amount_fen ? el("br") : [], p.money && p[k].amount_fen ? yuan(p[k].amount_fen) : [])),
       i === 0 ? el("td", { rowspan: d.policies.length, class: "n" }, `${num(d.delivered)} / ${num(d.due)} (${pct(d.completeness)})`) : [],
       i === 0 ? el("td", { rowspan: d.policies.length }, d.slowest.map((x) => el("div", {}, `#${x.seq} ${x.household_id} ${duration(x.latency_ms)}`))) : [])));
  page.append(table([T.department, T.policy, ...kinds.map((k) => T[k]), T.completeness, T.slowest], deptRows, { id: "report-departments" }));

  page.append(el("h3", {}, T.villages_section),
              el("p", {}, `${T.town_share}: ${pct(report.town.adverse_share)} · ${T.corrections}: ${num(report.town.corrections)}`));
  const villageRows = report.villages.map((v) =>
    el("tr", { "data-village": v.village, class: v.flagged ? "flagged" : "" },
       el("td", {}, el("a", { href: `#/villages?quarter=${quarter}&village=${v.village}` }, v.village)),
       el("td", { class: "n" }, num(v.households)), el("td", { class: "n" }, pct(v.signing_rate)),
       ["credit", "non_credit", "breach", "unevaluated"].map((k) => el("td", { class: "n" }, num(v.statuses[k]))),
       el("td", { class: "n" }, pct(v.adverse_share)), el("td", {}, v.flagged ? `⚠ ${T.yes}` : T.no),
       el("td", { class: "n" }, num(v.corrections))));
  page.append(table([T.village, T.households, T.signing_rate, T.credit, T.non_credit, T.breach, T.unevaluated, T.adverse_share, T.flagged, T.corrections],
                    villageRows, { id: "report-villages" }),
              chartBox(T.statuses_per_village, "chart-villages"));
  const colours = { credit: "#3b8c4a", non_credit: "#e0a100", breach: "#c0392b", unevaluated: "#999" };
  chart(document.getElementById("chart-villages"), {
    type: "bar",
    data: { labels: report.villages.map((v) => v.village),
            datasets: Object.keys(colours).map((k) => ({ label: T[k], data: report.villages.map((v) => v.statuses[k]), backgroundColor: colours[k] })) },
    options: { scales: { x: { stacked: true }, y: { stacked: true } } },
  });
}

// Household look-up: status history and every department's policy state.
async function household(page, query, id) {
  const input = el("input", { id: "household-id", placeholder: T.household_prompt, value: id || "" });
  page.append(el("h2", {}, T.nav_household),
              el("form", { class: "controls", onsubmit: (e) => { e.preventDefault(); location.hash = `#/household/${input.value.trim()}`; } },
                 input, el("button", { type: "submit" }, T.lookup)));
  if (!id) return;
  const h = await api(`/api/household/${encodeURIComponent(id)}`);
  page.append(el("dl", { class: "summary", id: "household" },
                 el("dt", {}, T.household_id), el("dd", {}, h.household_id),
                 el("dt", {}, T.village), el("dd", {}, h.village),
                 // A department user is never given the head's name or the member count.
                 "head" in h ? [el("dt", {}, T.head), el("dd", {}, h.head ?? T.none)] : [],
                 "members" in h ? [el("dt", {}, T.members), el("dd", {}, h.members ?? T.none)] : [],
                 el("dt", {}, T.commitment), el("dd", {}, h.commitment_signed_on ?? T.none),
                 el("dt", {}, T.current_status), el("dd", { "data-status": h.status }, `${T[h.status]} (${h.quarter ?? ""})`),
                 el("dt", {}, T.designations), el("dd", {}, h.designations.join(", ") || T.none)));
  // A correction says so; a complaint's ruling names the complaint, and a past quarter's says it
  // left the status now alone.
  const correctionNote = (e) => e.past_quarter ? ` (${T.past_quarter_ruling} ${e.complaint_id})`
    : e.complaint_id ? ` (${T.ruling_correction} ${e.complaint_id})` : e.correction ? ` (${T.correction})` : "";
  const history = h.history.filter((e) => e.type === "status_change").map((e) =>
    el("tr", { "data-seq": e.seq, "data-past-quarter": e.past_quarter ? "true" : "false" },
       el("td", {}, e.seq), el("td", {}, e.event_id), el("td", {}, e.quarter), el("td", {}, T[e.status]),
       el("td", {}, T[e.previous_status] || e.previous_status, correctionNote(e)), el("td", {}, when(e.received_at_ms))));
  page.append(el("h3", {}, T.history), table([T.seq, T.event, T.quarter, T.current_status, T.previous, T.time], history));

  page.append(el("h3", {}, T.policies_by_department));
  const rows = h.departments.flatMap((d) => d.policies.map((p, i) => {
    const s = p.state;
    const state = s ? { apply: "applied", release: "applied", restore: "applied", defer: "deferred", withhold: "withheld" }[s.action] || "not_applicable" : null;
    return el("tr", { "data-department": d.id, "data-policy": p.policy_id, "data-action": s ? s.action : "" },
              i === 0 ? el("td", { rowspan: d.policies.length }, named(d), el("br"), el("small", {}, d.up_to_date ? T.up_to_date : T.not_up_to_date)) : [],
              el("td", {}, named(p)),
              el("td", { class: state ? `badge ${state}` : "" }, state ? T[`state_${state}`] : T.no_action),
              el("td", { class: "n" }, s && s.amount_fen != null ? yuan(s.amount_fen) : ""),
              el("td", { class: "reason" }, s ? s.reason : ""),
              el("td", {}, s ? `#${s.seq} ${s.event_id}` : ""),
              el("td", {}, s ? when(s.delivered_at_ms) : ""));
  }));
  page.append(table([T.department, T.policy, T.policy_state, T.amount, T.reason, T.source_event, T.time], rows, { id: "household-policies" }));
  // What the departments did about past quarters after upheld complaints: apart from the state
  // above, which follows the evaluation now.
  const remedies = h.departments.flatMap((d) => d.policies.flatMap((p) => (p.remedies || []).map((r) =>
    el("tr", { "data-department": d.id, "data-policy": p.policy_id, "data-action": r.action, "data-quarter": r.quarter },
       el("td", {}, named(d)), el("td", {}, named(p)), el("td", {}, r.quarter), el("td", {}, r.complaint_id),
       el("td", {}, T[r.action] || r.action), el("td", { class: "n" }, r.amount_fen != null ? yuan(r.amount_fen) : ""),
       el("td", { class: "reason" }, r.reason), el("td", {}, when(r.delivered_at_ms))))));
  if (remedies.length)
    page.append(el("h3", {}, T.remedies),
                table([T.department, T.policy, T.quarter, T.complaint, T.action, T.amount, T.reason, T.time], remedies,
                      { id: "household-remedies" }));
  if (session && session.user && (session.role === "clerk" || session.role === "admin")) page.append(publishForm(h));
}

// A clerk's or admin's form for this household's evaluation (POST /api/publish): checked by the
// hub as on the wire, and its error shown as it answers: what the code means and the field's
// name in Chinese, the wire's code, field and English text beside (errorText).
function publishForm(h) {
  const status = el("select", { id: "publish-status", name: "status" },
                    ["credit", "non_credit", "breach"].map((s) => el("option", { value: s }, T[s])));
  const quarter = el("input", { id: "publish-quarter", name: "quarter", value: h.quarter || "", placeholder: "2020Q4", size: 7 });
  const effective = el("input", { id: "publish-effective", name: "effective_date", type: "date" });
  const assistance = el("input", { id: "publish-assistance", type: "checkbox" });
  const basis = el("input", { id: "publish-basis", name: "basis", size: 40, placeholder: T.basis_hint });
  const message = el("p", { id: "publish-message", "aria-live": "polite" });
  const form = el("form", { id: "publish-form", class: "controls" },
    el("label", {}, T.publish_status, " ", status), el("label", {}, T.quarter, " ", quarter),
    el("label", {}, T.effective_date, " ", effective), el("label", {}, assistance, " ", T.designation_assistance),
    el("label", {}, T.basis, " ", basis), el("button", { type: "submit", id: "publish-go" }, T.publish));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = { household_id: h.household_id, status: status.value, quarter: quarter.value.trim(),
                   designations: assistance.checked ? ["assistance"] : [] };
    if (effective.value) data.effective_date = effective.value;
    if (basis.value.trim()) data.basis = basis.value.trim();
    const body = await post("/api/publish", data);
    message.dataset.code = body.ok ? "ok" : body.error.code;
    message.dataset.field = body.ok ? "" : body.error.field || "";
    message.className = body.ok ? "ok" : "error";
    message.textContent = body.ok ? `${T.published}: #${body.seq}${body.duplicate ? ` (${T.already_stored})` : ""}`
                                  : `${T.error}: ${errorText(body.error)}`;
    if (body.ok && !body.duplicate) setTimeout(render, 1500);
  });
  return el("section", { id: "publish" }, el("h3", {}, T.publish_title), form, message);
}

async function reconcile(page) {
  const r = await api("/api/reconcile");
  page.append(el("h2", {}, T.reconcile_title),
              el("p", { id: "reconcile-summary", "data-count": r.count }, `${T.checked}: ${num(r.checked)} · ${T.pending}: ${num(r.pending)} · ${num(r.count)}`));
  if (r.count === 0) return page.append(el("p", { class: "ok" }, T.none_found));
  if (r.truncated) page.append(el("p", { class: "note", id: "reconcile-truncated" }, T.only_first_listed.replace("{n}", num(r.disagreements.length))));
  page.append(table([T.household_id, T.village, T.department, T.policy, T.kind, T.expected, T.recorded, T.since, T.event_should],
    r.disagreements.map((d) => el("tr", { "data-household": d.household_id, "data-department": d.department, "data-policy": d.policy_id },
      el("td", {}, el("a", { href: `#/household/${d.household_id}` }, d.household_id)), el("td", {}, d.village), el("td", {}, d.department),
      el("td", {}, d.policy_id), el("td", {}, T[`kind_${d.kind}`]), el("td", {}, T[`state_${d.expected}`] || d.expected),
      el("td", {}, T[`state_${d.recorded}`] || T.no_action), el("td", {}, when(d.since_ms)),
      el("td", {}, `#${d.event_seq} ${d.event_id} (${d.effective_date})`))), { id: "disagreements" }));
}

async function parked(page) {
  const p = await api("/api/parked");
  page.append(el("h2", {}, T.parked_title), el("p", { class: "note" }, T.parked_note));
  // Logged in: the session (admin role, CSRF token). Without accounts: the admin token, as before.
  const token = session && session.user ? null : el("input", { id: "admin-token", type: "password", placeholder: T.admin_token });
  const message = el("p", { id: "parked-message" });
  const act = (what, x) => async () => {
    const data = { department: x.department, seq: x.seq };
    const body = token
      ? await (await fetch(`/api/parked/${what}`, { method: "POST", headers: { Authorization: `Bearer ${token.value}` }, body: JSON.stringify(data) })).json()
      : await post(`/api/parked/${what}`, data);
    message.textContent = body.ok ? "OK" : `${T.error}: ${body.error.message}`;
    if (body.ok) setTimeout(render, 500);
  };
  page.append(token ? el("label", {}, T.admin_token, " ", token) : [], message,
              table([T.department, T.seq, T.household_id, T.reason, T.action], p.parked.map((x) => el("tr", { "data-seq": x.seq },
                el("td", {}, x.department), el("td", {}, x.seq), el("td", {}, x.household_id || ""), el("td", { class: "reason" }, x.reason || ""),
                // A confirmed notice's event waiting for its effective date is delivered on that day by the hub.
                el("td", {}, x.effective_on ? el("span", { class: "waiting" }, `${T.waiting_effective} ${x.effective_on}`)
                  : isAdmin() ? [el("button", { onclick: act("retry", x) }, T.retry), el("button", { onclick: act("skip", x) }, T.skip)] : [])))));
}

// Pages of their own files (search.js, import.js, notice.js) add themselves to window.HUB_PAGES.
const pages = Object.assign({ "": overview, villages, household, reconcile, parked }, window.HUB_PAGES);

async function render() {
  const [path, search] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, arg] = path.split("/");
  const page = document.getElementById("page");
  charts.splice(0).forEach((c) => c.destroy());
  const loading = el("p", { class: "loading" }, T.loading);
  page.replaceChildren(loading);
  document.body.removeAttribute("data-ready");
  document.body.removeAttribute("data-print");  // a page that prints differently sets it (notice.js)
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === (name || "overview")));
  // Pages build straight into the document: charts need their canvas attached.
  try {
    await (pages[name] || overview)(page, new URLSearchParams(search || ""), arg && decodeURIComponent(arg));
  } catch (e) {
    if (e.code === "unauthorized" || e.code === "session_ended") return;  // the login form is shown
    page.append(el("p", { class: "error", id: "error", "data-code": e.code || "" }, `${T.error}: ${e.message}`));
  }
  loading.remove();
  document.getElementById("generated").textContent = `${T.generated} ${when(Date.now())}`;
  document.body.dataset.ready = name || "overview";
}

document.documentElement.lang = T.locale;
document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = T[n.dataset.i18n]; });
const langSwitch = document.getElementById("lang-switch");
langSwitch.textContent = T.switch_to;
langSwitch.href = `?lang=${lang === "zh" ? "en" : "zh"}${location.hash}`;
window.addEventListener("hashchange", () => { langSwitch.href = `?lang=${lang === "zh" ? "en" : "zh"}${location.hash}`; if (session) render(); });
document.getElementById("logout").addEventListener("click", async () => {
  await post("/api/logout", {});
  session = null;
  showWho();
  showLogin();
});
// First: who is logged in. 401: the login form; else the page asked for.
(async () => {
  const response = await fetch("/api/session", { cache: "no-store", credentials: "same-origin" });
  const body = await response.json();
  if (!body.ok) return showLogin(body.error.code === "session_ended" ? body.error.message : "");
  session = body;
  showWho();
  render();
})();
