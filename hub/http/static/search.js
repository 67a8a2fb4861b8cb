// The dashboard's household search page (#/households?village=V01&status=credit&…): the
// criteria of /api/households in a form, a page of matches with links to each household, the
// next page, and every match as CSV. Loaded before app.js, whose helpers (el, table, api, T, num)
// it uses when the page is shown; app.js adds window.HUB_PAGES to its pages.
"use strict";

window.HUB_PAGES = Object.assign(window.HUB_PAGES || {}, {
  households: async function households(page, query) {
    const fields = ["id", "head", "village", "status", "designation"];
    const criteria = new URLSearchParams();
    for (const f of fields) if (query.get(f)) criteria.set(f, query.get(f));
    const after = query.get("after") || "";

    const input = (name, placeholder) =>
      el("input", { id: `search-${name}`, name, value: query.get(name) || "", placeholder, size: 12 });
    const select = (name, options) =>
      el("select", { id: `search-${name}`, name }, el("option", { value: "" }, T.any),
         options.map(([value, label]) => el("option", value === query.get(name) ? { value, selected: "" } : { value }, label)));
    const form = el("form", { id: "search-form", class: "controls" },
      el("label", {}, T.household_id, " ", input("id", T.search_id_hint)),
      el("label", {}, T.head, " ", input("head", T.search_head_hint)),
      el("label", {}, T.village, " ", input("village", "V01")),
      el("label", {}, T.current_status, " ",
         select("status", ["credit", "non_credit", "breach", "unevaluated"].map((s) => [s, T[s]]))),
      el("label", {}, T.designations, " ", select("designation", [["assistance", T.designation_assistance]])),
      el("button", { type: "submit", id: "search-go" }, T.lookup));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const next = new URLSearchParams();
      for (const f of fields) {
        const value = form.elements[f].value.trim();
        if (value) next.set(f, value);
      }
      location.hash = `#/households?${next}`;
    });
    page.append(el("h2", {}, T.nav_households), form);

    const request = new URLSearchParams(criteria);
    request.set("limit", "50");
    if (after) request.set("after", after);
    const result = await api(`/api/households?${request}`);
    const rows = result.households.map((h) =>
      el("tr", { "data-household": h.household_id },
         el("td", {}, el("a", { href: `#/household/${encodeURIComponent(h.household_id)}` }, h.household_id)),
         el("td", {}, h.village), el("td", {}, h.head || T.none), el("td", { class: "n" }, h.members ?? T.none),
         el("td", {}, T[h.status] || h.status), el("td", {}, h.quarter || T.none),
         el("td", {}, h.designations.map((d) => T[`designation_${d}`] || d).join("、") || T.none)));
    const csv = new URLSearchParams(criteria);
    csv.set("format", "csv");
    const links = [el("a", { id: "search-csv", href: `/api/households?${csv}` }, T.download_csv)];
    if (result.next_after) {
      const next = new URLSearchParams(criteria);
      next.set("after", result.next_after);
      links.unshift(el("a", { id: "search-next", href: `#/households?${next}` }, T.next_page));
    }
    page.append(
      el("p", { id: "search-total", "data-total": result.total }, T.search_total.replace("{n}", num(result.total))),
      table([T.household_id, T.village, T.head, T.members, T.current_status, T.quarter, T.designations], rows,
            { id: "search-results" }),
      el("p", { class: "controls" }, links));
  },
});
