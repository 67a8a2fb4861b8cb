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
      `${T.error}: ${errorText(body.error)}`);

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
                                     : `${T.error}: ${errorText(c.error)}`;
          if (!c.ok && c.issues) message.after(issuesTable(c.issues));
          confirm.disabled = false;
          document.body.dataset.import = c.ok ? "stored" : "refused";
          if (c.ok) followDelivery(message, c.last_seq);
        });
        result.append(el("p", { class: "controls" }, confirm), message);
      } else {
        result.append(el("p", { class: "error", id: "import-fix" }, T.import_fix));
      }
      document.body.dataset.import = p.valid ? "previewed" : "invalid";
    });
  },
});

// After a confirmed import: each department's delivery up to the import's last seq, from
// GET /api/status, refreshed every second until every department has it (or the clerk leaves
// the page, or previews another file). A department whose plugin is stopped or failing stays
// behind, and its state says why. Shown below `after`, in place of the one of an earlier confirm.
function followDelivery(after, lastSeq) {
  const section = el("section", { id: "import-delivery", "data-last-seq": lastSeq });
  const before = document.getElementById("import-delivery");
  if (before) before.replaceWith(section);
  else after.after(section);
  const refresh = async () => {
    if (!section.isConnected) return;
    let status;
    try {
      status = await api("/api/status");
    } catch (e) {
      return setTimeout(refresh, 1000);
    }
    const behind = (d) => Math.max(0, lastSeq - d.cursor);
    const rows = status.departments.map((d) =>
      el("tr", { "data-department": d.id, "data-cursor": d.cursor, "data-caught-up": behind(d) === 0 },
         el("td", { class: "name" }, named(d)),
         el("td", { class: `state state-${d.state}`, title: d.last_error || "" }, T[`state_${d.state}`] || d.state),
         el("td", { class: "n" }, num(d.cursor)),
         el("td", { class: behind(d) === 0 ? "ok" : "pending" },
            behind(d) === 0 ? T.import_caught_up : T.import_behind.replace("{n}", num(behind(d))))));
    const done = status.departments.every((d) => behind(d) === 0);
    section.dataset.caughtUp = done;
    section.replaceChildren(el("h3", {}, T.import_catch_up.replace("{seq}", num(lastSeq))),
      table([T.department, T.state, T.cursor, T.import_delivery], rows),
      el("p", { class: done ? "ok" : "note" }, done ? T.import_all_caught_up : T.import_waiting));
    if (!done) setTimeout(refresh, 1000);
  };
  refresh();
}

// An .xlsx file's first worksheet as CSV text (RFC 4180: a field holding a comma, a quote or a
// line break is quoted, quotes doubled; lines end with CRLF), read in the browser by
// read-excel-file (vendor/read-excel-file.min.js, loaded by index.html). Cells: text as it is;
// numbers as JavaScript writes them (1200, 0.5); dates as YYYY-MM-DD; TRUE/FALSE; a formula
// cell's value as Excel last saved it (the formula is not evaluated); empty cells empty. A formula
// without a saved value, or a cell holding an error value, refuses the workbook (xlsx_formula)
// naming the cells.
// { ok: true, csv, sheet, rows } or { ok: false, error: { code, message } }.
async function xlsxToCsv(file) {
  const refuse = (code, message) => ({ ok: false, error: { code, message } });
  const unreadable = (e) => refuse("xlsx_unreadable", "无法读取这个 Excel 工作簿（文件不完整或已损坏），未上传任何内容；请在 Excel 或 WPS 中重新保存后再上传 / "
    + `the Excel workbook cannot be read (truncated or damaged); nothing was sent: save it again and upload it (${e && e.message ? e.message : e})`);
  if (typeof window.readXlsxFile !== "function")
    return refuse("xlsx_unreadable", "页面未能加载读取 Excel 的程序，请刷新页面 / the workbook reader did not load: reload the page");
  let sheets;
  try {
    sheets = await window.readXlsxFile(file);
  } catch (e) {
    return unreadable(e);
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
  // read-excel-file gives a formula cell without a saved value, and an error value (#N/A,
  // #REF!…), as an empty cell: the row would go on without it. Such cells are refused by name.
  let unsafe;
  try {
    unsafe = await formulaCellsWithoutValue(file);
  } catch (e) {
    return unreadable(e);
  }
  if (unsafe.length) {
    const shown = unsafe.slice(0, 10).map((c) => `${c.cell}（${c.error || "无值"}）`).join("、") + (unsafe.length > 10 ? " …" : "");
    const shownEn = unsafe.slice(0, 10).map((c) => `${c.cell} (${c.error || "no value"})`).join(", ") + (unsafe.length > 10 ? " …" : "");
    return refuse("xlsx_formula", `工作表「${first.sheet}」中有 ${unsafe.length} 个单元格没有可用的值：${shown}。`
                  + "公式没有保存的结果（由其他程序生成、从未在 Excel 中保存），或算出了错误值。请在 Excel 或 WPS 中打开，改正后保存再上传；未上传任何内容 / "
                  + `${unsafe.length} cells of worksheet "${first.sheet}" have no usable value: ${shownEn}. A formula has no saved `
                  + "result (written by another program and never saved by Excel), or its result is an error. Open the workbook in "
                  + "Excel or WPS, fix it, save it and upload it again; nothing was sent");
  }
  return { ok: true, csv: lines.map((l) => l + "\r\n").join(""), sheet: first.sheet, rows: lines.length - 1 };
}

// The cells of an .xlsx file's first worksheet that read-excel-file would give as empty though
// they are not: a formula without a saved value (<f> with no <v>, or an empty one not marked as
// text), and any cell whose value is an error (t="e": #N/A, #REF!, #DIV/0!…).
// [{cell: "B3", error: "#N/A" | ""}], in sheet order. Reads the workbook's zip directory
// itself (a stored or deflated entry, inflated by the browser's DecompressionStream) and the
// first <sheet> of xl/workbook.xml through its relationship, as read-excel-file does. Throws
// when the file is not such a zip.
async function formulaCellsWithoutValue(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const view = new DataView(bytes.buffer);
  let end = -1;  // the end-of-central-directory record, within the last 64 KiB + 22 bytes
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557) && end < 0; --i)
    if (view.getUint32(i, true) === 0x06054b50) end = i;
  if (end < 0) throw new Error("no zip directory");
  const entries = new Map();
  for (let i = view.getUint32(end + 16, true), n = view.getUint16(end + 10, true); n > 0; --n) {
    if (view.getUint32(i, true) !== 0x02014b50) throw new Error("bad zip directory");
    const nameLength = view.getUint16(i + 28, true);
    entries.set(new TextDecoder().decode(bytes.subarray(i + 46, i + 46 + nameLength)),
                { method: view.getUint16(i + 10, true), size: view.getUint32(i + 20, true), at: view.getUint32(i + 42, true) });
    i += 46 + nameLength + view.getUint16(i + 30, true) + view.getUint16(i + 32, true);
  }
  const text = async (name) => {
    const e = entries.get(name);
    if (!e) throw new Error(`no ${name}`);
    const start = e.at + 30 + view.getUint16(e.at + 26, true) + view.getUint16(e.at + 28, true);
    const data = bytes.subarray(start, start + e.size);
    if (e.method === 0) return new TextDecoder().decode(data);
    if (e.method !== 8) throw new Error(`${name}: compression ${e.method}`);
    const inflated = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new TextDecoder().decode(await new Response(inflated).arrayBuffer());
  };
  const xml = (source) => {
    const doc = new DOMParser().parseFromString(source, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) throw new Error("malformed XML");
    return doc;
  };
  const relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
  const sheet = xml(await text("xl/workbook.xml")).getElementsByTagNameNS("*", "sheet")[0];
  if (!sheet) return [];
  const id = sheet.getAttributeNS(relationships, "id");
  const target = [...xml(await text("xl/_rels/workbook.xml.rels")).getElementsByTagNameNS("*", "Relationship")]
    .find((r) => r.getAttribute("Id") === id);
  if (!target) throw new Error(`no relationship ${id}`);
  const path = target.getAttribute("Target").startsWith("/") ? target.getAttribute("Target").slice(1) : `xl/${target.getAttribute("Target")}`;
  const source = await text(path);
  if (!source.includes("<f") && !source.includes('t="e"')) return [];  // the usual workbook: nothing to look at
  const found = [];
  for (const c of xml(source).getElementsByTagNameNS("*", "c")) {
    const child = (tag) => [...c.children].find((x) => x.localName === tag);
    const v = child("v");
    if (c.getAttribute("t") === "e") found.push({ cell: c.getAttribute("r"), error: v ? v.textContent : "" });
    // An empty <v> is a saved empty text only when the cell says its formula gives text (t="str").
    else if (child("f") && (!v || (v.textContent === "" && c.getAttribute("t") !== "str")))
      found.push({ cell: c.getAttribute("r"), error: "" });
  }
  return found;
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
