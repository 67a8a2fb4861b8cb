// The dashboard's notice page (公示, #/notices): every village's notice of a quarter's proposed
// evaluations (GET /api/notices?quarter=), and one village's notice list for a quarter as the
// village posts it (#/notices?village=V01&quarter=2026Q4, GET /api/notices/V01/2026Q4): title,
// notice period, one row per household with its standing, and where to object. The notice itself
// (#notice-sheet) is in Chinese, with English beside it on screen only (class "en"); printed
// (the 打印 / Print button), it is the page alone on A4, without the console around it
// (style.css, body[data-print="notice"]). Proposing and confirming are done with hubctl for now
// (hubctl notice propose|confirm): the page reads only. Loaded before app.js, whose helpers (el,
// table, api, T, num) it uses when the page is shown; app.js adds window.HUB_PAGES to its pages.
"use strict";

(() => {
  // "2026Q4" → "2026年第4季度"; "2026-01-05" → "2026年1月5日": as a notice board writes them.
  const quarterZh = (q) => {
    const m = /^(\d{4})Q([1-4])$/.exec(q || "");
    return m ? `${m[1]}年第${m[2]}季度` : q;
  };
  const dateZh = (d) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d || "");
    return m ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : d;
  };
  // English beside the Chinese, on screen only.
  const en = (text) => el("span", { class: "en", lang: "en" }, text);
  const standingEn = { proposed: "on notice", disputed: "disputed", final: "final", in_effect: "in effect", superseded: "superseded" };
  const statusEn = { credit: "credit", non_credit: "non-credit", breach: "breach" };
  const designationZh = { assistance: "帮扶对象" };

  async function noticeList(page, query) {
    const quarter = query.get("quarter") || "";
    const [all, shown] = await Promise.all([
      api("/api/notices"),
      quarter ? api(`/api/notices?quarter=${encodeURIComponent(quarter)}`) : null,
    ]);
    const list = shown || all;
    const quarters = [...new Set(all.notices.map((n) => n.quarter))].sort().reverse();
    const select = el("select", { id: "notice-quarter", onchange: () => { location.hash = select.value ? `#/notices?quarter=${select.value}` : "#/notices"; } },
                      el("option", { value: "" }, T.all_quarters),
                      quarters.map((q) => el("option", q === quarter ? { value: q, selected: "" } : { value: q }, q)));
    page.append(el("h2", {}, T.notices_title),
                el("div", { class: "controls" }, el("label", {}, T.quarter, " ", select)),
                el("p", { class: "note" }, T.notices_note.replace("{days}", num(all.period_days))));
    if (!list.notices.length) return page.append(el("p", { id: "notices-none" }, T.notices_none));
    const rows = list.notices.map((n) => {
      const href = `#/notices?village=${encodeURIComponent(n.village)}&quarter=${encodeURIComponent(n.quarter)}`;
      return el("tr", { "data-village": n.village, "data-quarter": n.quarter, "data-period-over": n.period_over ? "true" : "false" },
        el("td", {}, el("a", { href }, n.village)), el("td", {}, n.quarter),
        el("td", { class: "n", "data-proposed": n.proposed }, num(n.proposed)),
        el("td", { class: "n" }, num(n.confirmed)), el("td", { class: "n" }, num(n.superseded)),
        el("td", {}, n.last_proposed_on),
        el("td", { class: n.period_over ? "ok" : "" }, n.ends_on, " ", n.period_over ? T.notice_period_over : T.notice_period_running),
        el("td", {}, el("a", { href, class: "notice-open" }, T.notice_open)));
    });
    page.append(table([T.village, T.quarter, T.notice_proposed, T.notice_confirmed, T.notice_superseded, T.notice_proposed_on,
                       T.notice_ends_on, ""], rows, { id: "notices" }));
  }

  async function noticeSheet(page, village, quarter) {
    const reply = await api(`/api/notices/${encodeURIComponent(village)}/${encodeURIComponent(quarter)}`);
    const n = reply.notice;
    const c = n.counts;
    // The village's name where the hub knows one, else its id.
    const place = n.village_name || n.village;
    const rows = n.households.map((h) =>
      el("tr", { "data-household": h.household_id, "data-standing": h.standing },
         el("td", {}, h.household_id),
         el("td", {}, h.head || "—"),
         el("td", { "data-status": h.status }, h.status_zh, en(statusEn[h.status] || h.status)),
         el("td", {}, h.designations.length ? h.designations.map((d) => designationZh[d] || d).join("、") : "—",
            h.designations.length ? en(h.designations.join(", ")) : []),
         el("td", {}, h.effective_date ? dateZh(h.effective_date) : "确认之日", en(h.effective_date || "on confirmation")),
         el("td", { class: `standing standing-${h.standing}` }, h.standing_zh, en(standingEn[h.standing] || h.standing),
            h.superseded_by ? el("small", { class: "en" }, ` ${h.superseded_by}`)
              : h.complaints.length ? el("small", { class: "en" }, ` ${h.complaints.join(", ")}`) : [])));
    const head = (zh, english) => [zh, en(english)];
    const tally = [["proposed", "公示中"], ["disputed", "有异议"], ["final", "已确认"], ["in_effect", "已生效"], ["superseded", "已更正"]]
      .filter(([k]) => c[k]).map(([k, zh]) => `${zh} ${num(c[k])} 户`).join("，");
    const sheet = el("article", { id: "notice-sheet", class: "notice-sheet", lang: "zh-CN", "data-village": n.village, "data-quarter": n.quarter },
      el("h2", { class: "notice-title", id: "notice-title" }, `${place} ${quarterZh(n.quarter)} 诚信评议结果公示`),
      el("p", { class: "notice-title-en en", lang: "en" }, `${place}, ${n.quarter}: notice of the integrity evaluation results`),
      el("p", { class: "notice-intro" },
         `经村评议小组评议，现将本村${quarterZh(n.quarter)}农户诚信评议结果予以公示，接受群众监督。`),
      el("p", { class: "notice-period", id: "notice-period", "data-ends-on": n.ends_on },
         `公示期：${dateZh(n.last_proposed_on)} 至 ${dateZh(n.ends_on)}（${n.period_days} 天）`,
         en(`Notice period: ${n.last_proposed_on} to ${n.ends_on} (${n.period_days} days)`)),
      table([head("户号", "household"), head("户主", "head"), head("评议结果", "result"), head("认定", "designations"),
             head("生效日期", "effective"), head("状态", "standing")], rows, { id: "notice-households" }),
      el("p", { class: "notice-count" }, `共 ${num(n.households.length)} 户${tally ? `：${tally}` : ""}。`),
      el("p", { class: "notice-complain", id: "notice-complain" },
         "对公示结果有异议的，请在公示期内投入镇、村投诉举报箱，或向村评议小组、镇计划生育办公室反映。",
         en("Objections, within the notice period: in the town's or the village's complaint box, or to the village evaluation group or the town family-planning office.")),
      el("p", { class: "notice-sign" }, `${place} 村民委员会`, el("br"), "镇计划生育办公室", el("br"), dateZh(n.last_proposed_on)));
    const back = el("a", { href: `#/notices?quarter=${encodeURIComponent(n.quarter)}`, id: "notice-back" }, T.notice_back);
    const print = el("button", { type: "button", id: "notice-print", onclick: () => window.print() }, "打印 / Print");
    // The office confirms here (a clerk of the village, or an admin): early only with a reason.
    const mayConfirm = session && session.user && (session.role === "clerk" || session.role === "admin") && c.proposed > 0;
    const reason = el("input", { id: "notice-reason", type: "text", maxlength: "500", placeholder: T.notice_reason });
    const result = el("span", { id: "notice-confirm-result" });
    const confirm = el("button", { type: "button", id: "notice-confirm", onclick: async () => {
      const body = await post(`/api/notices/${encodeURIComponent(n.village)}/${encodeURIComponent(n.quarter)}/confirm`,
                              reason.value.trim() ? { reason: reason.value.trim() } : {});
      result.dataset.code = body.ok ? "ok" : body.error.code;
      result.dataset.confirmed = body.ok ? String(body.confirmed.length) : "0";
      result.textContent = body.ok
        ? T.notice_confirmed.replace("{n}", num(body.confirmed.length)).replace("{held}", num((body.held || []).length))
        : `${T.error}: ${body.error.message}`;
      if (body.ok) setTimeout(render, 800);
    } }, T.notice_confirm);
    page.append(el("div", { class: "controls notice-controls" }, back, print,
                   mayConfirm ? el("span", { class: "notice-confirm" }, reason, confirm, result) : []),
                el("p", { class: "note notice-controls", id: "notice-status", "data-period-over": n.period_over ? "true" : "false" },
                   (n.period_over ? T.notice_over_note : T.notice_running_note)
                     .replace("{ends_on}", n.ends_on).replace("{village}", n.village).replace("{quarter}", n.quarter)),
                sheet);
    // Printed, this page is the notice alone (style.css); render() clears it for the next page.
    document.body.dataset.print = "notice";
  }

  window.HUB_PAGES = Object.assign(window.HUB_PAGES || {}, {
    notices: async function notices(page, query) {
      const village = query.get("village"), quarter = query.get("quarter");
      if (village && quarter) return noticeSheet(page, village, quarter);
      return noticeList(page, query);
    },
  });
})();
