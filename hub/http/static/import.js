// The dashboard's import page (#/import): a clerk or an admin chooses a file of a quarter's
// evaluations (CSV in UTF-8 or GB18030, Chinese or English headers; JSONL; or an Excel workbook,
// .xlsx, whose first worksheet is read in the browser and sent as CSV), sees the preview
// — every bad row by line and field, Chinese first with the English beside, and what each
// department would do, with totals — and confirms. Confirming sends the very bytes previewed with
// the preview's digest (POST /api/import/confirm), so the rows stored are the previewed ones with
// the same event ids: confirming twice stores once. Nothing is stored by the preview, nor by a
// refused confirm. Loaded before app.js, whose helpers (el, table, T, num, yuan, named, session)
// it uses when the page is shown; app.js adds window.HUB_PAGES to its pages.
"use strict";

window.HUB_PAGES = Object.assign(window.HUB_PAGES || {}, {
  import: async function importPage(page) {
    page.append(el("h2", {}, T.import_title));
    if (session && session.user && session.role !== "clerk" && session.role !== "admin") {
      page.append(el("p", { class: "error", id: "import-refused" }, T.import_role));
      return;
    }
    const input = el("input", { id: "import-file", type: "file", accept: ".csv,.xlsx,.jsonl,.json,.ndjson,text/csv" });
    const go = el("button", { type: "submit", id: "import-preview" }, T.import_preview);
    const form = el("form", { id: "import-form", class: "controls" }, el("label", {}, T.import_choose, " ", input), go);
    const result = el("div", { id: "import-result", "aria-live": "polite" });
    page.append(el("p", { class: "note" }, T.import_note), form, result);

    // The file's bytes as chosen, sent as they are: the hub detects the encoding (hubctl's code).
    const send = async (path, bytes, name, digest) => {
      const query = new URLSearchParams({ name });
      if (digest) query.set("digest", digest);
      const headers = { "Content-Type": "application/octet-stream" };
      if (session && session.csrf_token) headers["X-CSRF-Token"] = session.csrf_token;
      const response = await fetch(`${path}?${query}`, { method: "POST", headers, credentials: "same-origin", body: bytes });
      try {
        return await response.json();
      } catch (e) {
        return { ok: false, error: { code: response.status === 413 ? "file_too_large" : "http_" + response.status, message: response.statusText } };
      }
    };
    const failure = (body) => el("p", { class: "error", id: "import-error", "data-code": body.error.code },
      `${T.error}: ${codeText(body.error.code)}: ${body.error.message}${body.error.field ? ` [${fieldText(body.error.field)}]` : ""}`);

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      result.replaceChildren();
      document.body.removeAttribute("data-import");
      const file = input.files[0];
      if (!file) return result.append(el("p", { class: "error" }, T.import_choose_first));
      // A workbook is read here and sent as the CSV text of its first worksheet (UTF-8), under
      // the name "<workbook>.csv": the hub validates, numbers the rows and digests that CSV as it
      // would an uploaded one. A workbook that cannot be read sends nothing.
      let bytes, name = file.name;
      if (/\.xlsx$/i.test(file.name)) {
        const book = await xlsxToCsv(file);
        if (!book.ok) {
          result.append(failure(book));
          document.body.dataset.import = "refused";
          return;
        }
        bytes = new TextEncoder().encode(book.csv);
        name = file.name + ".csv";
        result.append(el("p", { class: "note", id: "import-xlsx", "data-sheet": book.sheet, "data-rows": book.rows },
          T.import_from_xlsx.replace("{sheet}", book.sheet).replace("{rows}", num(book.rows))));
      } else {
        bytes = await file.arrayBuffer();
      }
      const p = await send("/api/import/preview", bytes, name);
      if (!p.ok) {
        result.append(failure(p));
        document.body.dataset.import = "refused";
        return;
      }
      result.append(previewView(p));
      if (p.valid) {
        const confirm = el("button", { type: "button", id: "import-confirm" }, T.import_confirm);
        const message = el("p", { id: "import-message", "aria-live": "polite" });
        confirm.addEventListener("click", async () => {
          confirm.disabled = true;
          const c = await send("/api/import/confirm", bytes, name, p.file.digest);
          message.className = c.ok ? "ok" : "error";
          message.dataset.code = c.ok ? "ok" : c.error.code;
          message.dataset.stored = c.ok ? c.stored : 0;
          message.dataset.duplicates = c.ok ? c.duplicates : 0;
          message.textContent = c.ok ? T.import_done.replace("{stored}", num(c.stored)).replace("{duplicates}", num(c.duplicates))
                                     : `${T.error}: ${codeText(c.error.code)}: ${c.error.message}`;
          if (!c.ok && c.issues) message.after(issuesTable(c.issues));
          confirm.disabled = false;
          document.body.dataset.import = c.ok ? "stored" : "refused";
        });
        result.append(el("p", { class: "controls" }, confirm), message);
      } else {
        result.append(el("p", { class: "error", id: "import-fix" }, T.import_fix));
      }
      document.body.dataset.import = p.valid ? "previewed" : "invalid";
    });
  },
});

// An .xlsx file's first worksheet as CSV text (RFC 4180: a field holding a comma, a quote or a
// line break is quoted, quotes doubled; lines end with CRLF), read in the browser by
// read-excel-file (vendor/read-excel-file.min.js, loaded by index.html). Cells: text as it is;
// numbers as JavaScript writes them (1200, 0.5); dates as YYYY-MM-DD; TRUE/FALSE; a formula
// cell's value as Excel last saved it (the formula is not evaluated); empty cells empty.
// { ok: true, csv, sheet, rows } or { ok: false, error: { code, message } }.
async function xlsxToCsv(file) {
  const refuse = (code, message) => ({ ok: false, error: { code, message } });
  if (typeof window.readXlsxFile !== "function")
    return refuse("xlsx_unreadable", "页面未能加载读取 Excel 的程序，请刷新页面 / the workbook reader did not load: reload the page");
  let sheets;
  try {
    sheets = await window.readXlsxFile(file);
  } catch (e) {
    return refuse("xlsx_unreadable", "无法读取这个 Excel 工作簿（文件不完整或已损坏），未上传任何内容；请在 Excel 或 WPS 中重新保存后再上传 / "
                  + `the Excel workbook cannot be read (truncated or damaged); nothing was sent: save it again and upload it (${e && e.message ? e.message : e})`);
  }
  if (!Array.isArray(sheets) || sheets.length === 0)
    return refuse("xlsx_empty", "这个 Excel 工作簿没有工作表，未上传任何内容 / the workbook has no worksheet; nothing was sent");
  const first = sheets[0];
  const cell = (v) => {
    if (v === null || v === undefined) return "";
    if (v instanceof Date) return isNaN(v) ? "" : v.toISOString().slice(0, 10);
    if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
    return String(v);
  };
  const field = (text) => /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  const lines = (first.data || []).map((row) => row.map((v) => field(cell(v))).join(","));
  while (lines.length && /^,*$/.test(lines[lines.length - 1])) lines.pop();
  if (lines.length === 0)
    return refuse("xlsx_empty", `Excel 工作簿的第一个工作表「${first.sheet}」是空的，未上传任何内容；请把评议结果放在第一个工作表 / `
                  + `the workbook's first worksheet ("${first.sheet}") is empty; nothing was sent: put the evaluations in the first worksheet`);
  return { ok: true, csv: lines.map((l) => l + "\r\n").join(""), sheet: first.sheet, rows: lines.length - 1 };
}

// "评议结果 (status)": the field's Chinese name first, the wire name beside.
function fieldText(field) {
  const zh = (window.HUB_IMPORT_WORDS.fields[field] || {})[lang];
  return zh && zh !== field ? `${zh} (${field})` : field;
}

// "季度无效 / invalid_quarter": what the code means in the page's language, the code beside.
function codeText(code) {
  const text = (window.HUB_IMPORT_WORDS.codes[code] || {})[lang];
  return text ? `${text} / ${code}` : code;
}

function issuesTable(issues) {
  return table([T.import_line, T.import_field, T.import_code, T.reason],
    issues.map((i) => el("tr", { "data-line": i.line, "data-field": i.field, "data-code": i.code },
      el("td", { class: "n" }, T.import_line_n.replace("{n}", i.line)), el("td", {}, i.field ? fieldText(i.field) : T.none),
      el("td", {}, codeText(i.code)), el("td", { class: "reason" }, i.message))), { id: "import-issues" });
}

function previewView(p) {
  const kinds = ["apply", "defer", "withhold", "release", "restore", "not_applicable"];
  const parts = [];
  parts.push(el("p", { id: "import-summary", "data-rows": p.rows, "data-bad": p.bad_rows, "data-would-store": p.would_store },
    (p.valid ? T.import_summary : T.import_summary_invalid).replace("{name}", p.file.name).replace("{encoding}", p.file.encoding).replace("{rows}", num(p.rows))
      .replace("{bad}", num(p.bad_rows)).replace("{store}", num(p.would_store)).replace("{dup}", num(p.duplicates))));
  if (p.issues.length) parts.push(el("h3", {}, T.import_bad_rows), issuesTable(p.issues));
  parts.push(el("h3", {}, T.import_effects));
  parts.push(table([T.department, T.import_by, T.import_events, ...kinds.map((k) => T[k]), T.import_paid, T.failed],
    p.departments.map((d) => el("tr", { "data-department": d.id, "data-mode": d.mode },
      el("td", {}, named(d)), el("td", { title: d.note || "" }, d.mode === "plugin" ? T.import_by_plugin : T.import_by_catalogue),
      el("td", { class: "n" }, num(d.events)),
      kinds.map((k) => {
        const t = d.totals[k];
        return el("td", { class: "n", "data-kind": k, "data-households": t ? t.households : 0 },
                  t ? `${num(t.households)}${t.amount_fen ? ` · ${yuan(t.amount_fen)}` : ""}` : "–");
      }),
      el("td", { class: "n", "data-paid-fen": d.paid_fen }, d.paid_fen ? yuan(d.paid_fen) : "–"),
      el("td", { class: "n" }, num(d.failed)))), { id: "import-departments" }));
  parts.push(el("p", { class: "note" }, T.import_totals_note));
  for (const d of p.departments) {
    if (!d.households.length) continue;
    const rows = d.households.map((h) => el("tr", { "data-household": h.household_id },
      el("td", { class: "n" }, h.line), el("td", {}, h.household_id), el("td", {}, `${T[h.previous_status] || h.previous_status} → ${T[h.status] || h.status}`),
      el("td", {}, h.failure ? el("span", { class: "error" }, h.failure)
                             : h.actions.map((a) => el("div", {}, `${a.policy_id}: ${T[a.action] || a.action}${a.amount_fen != null ? ` ${yuan(a.amount_fen)}` : ""}`)))));
    parts.push(el("details", { "data-department": d.id },
      el("summary", {}, `${named(d)} · ${T.import_per_household}${d.truncated ? ` (${T.import_first_n.replace("{n}", num(d.households.length))})` : ""}`),
      table([T.import_line, T.household_id, T.publish_status, T.action], rows)));
  }
  return el("section", { id: "import-preview-result" }, parts);
}
