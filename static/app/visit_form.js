// The visit form's enhancements. Without this file the form still works: three issue rows,
// the resolution box always shown, and the key enterprises suggested in the datalist.
(() => {
  "use strict";

  // --- Enterprise search: refill the <datalist> from the lookup endpoint as the user types.
  function enterpriseSearch() {
    const input = document.querySelector("input[data-lookup=enterprise]");
    const list = document.getElementById("enterprise-options");
    if (!input || !list || !list.dataset.lookupUrl) return;
    let timer = null;
    let controller = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (!q || list.querySelector(`option[value="${CSS.escape(input.value)}"]`)) return;
      timer = setTimeout(async () => {
        if (controller) controller.abort();
        controller = new AbortController();
        try {
          const url = `${list.dataset.lookupUrl}?q=${encodeURIComponent(q)}`;
          const response = await fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } });
          if (!response.ok) return;
          const { results } = await response.json();
          list.replaceChildren(
            ...results.map((r) => {
              const option = document.createElement("option");
              option.value = r.label; // text only: never parsed as HTML
              return option;
            }),
          );
        } catch (error) {
          if (error.name !== "AbortError") console.warn("enterprise lookup failed", error);
        }
      }, 250);
    });
  }

  // --- "Solved on the spot": show the resolution box only when it is ticked.
  function syncResolution(card) {
    const box = card.querySelector("input[name$='-solved_on_site']");
    const resolution = card.querySelector("[data-resolution]");
    if (!box || !resolution) return;
    const show = box.checked || resolution.hasAttribute("data-has-errors");
    resolution.classList.toggle("d-none", !show);
  }

  // --- A row is optional until something is typed in it: then its required marks and its
  // remove box show (app.css hides them on a blank row).
  function syncFilled(card) {
    const filled = [...card.querySelectorAll("input, textarea, select")].some((field) => {
      if (field.name.endsWith("-DELETE") || field.type === "hidden") return false;
      return field.type === "checkbox" ? field.checked : field.value.trim() !== "";
    });
    card.toggleAttribute("data-filled", filled);
  }

  function wireRow(card) {
    const box = card.querySelector("input[name$='-solved_on_site']");
    const resolution = card.querySelector("[data-resolution]");
    box?.addEventListener("change", () => {
      resolution?.removeAttribute("data-has-errors");
      syncResolution(card);
      if (box.checked) resolution?.querySelector("textarea")?.focus();
    });
    card.addEventListener("input", () => syncFilled(card));
    card.addEventListener("change", () => syncFilled(card));
    syncResolution(card);
    if (!card.hasAttribute("data-filled")) syncFilled(card); // the server's mark stands
  }

  // --- "Add another issue": clone the formset's empty form, renumbered.
  function issueRows() {
    const container = document.getElementById("issue-forms");
    const template = document.getElementById("issue-empty-form");
    const button = document.getElementById("add-issue");
    const total = document.querySelector("input[name$='-TOTAL_FORMS']");
    if (!container || !template || !button || !total) return;
    const max = Number(document.querySelector("input[name$='-MAX_NUM_FORMS']")?.value || 1000);
    container.querySelectorAll("[data-issue-form]").forEach(wireRow);
    button.hidden = false;
    const addRow = () => {
      const index = Number(total.value);
      if (index >= max) return null;
      const html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      const holder = document.createElement("div");
      holder.innerHTML = html; // server-rendered template of our own form, no user data
      const card = holder.firstElementChild;
      container.appendChild(card);
      total.value = String(index + 1);
      wireRow(card);
      return card;
    };
    button.addEventListener("click", () => addRow()?.querySelector("input[type=text]")?.focus());

    // A draft kept in this browser (static/app/session.js) may hold more rows than the page:
    // add them before it is filled in, then show each row as filled or not.
    const form = container.closest("form");
    const prefix = total.name.replace(/-TOTAL_FORMS$/, "");
    const rowOf = new RegExp(`^${prefix}-(\\d+)-`);
    form?.addEventListener("draft:before-restore", (event) => {
      const rows = event.detail.fields.map(([name]) => Number(rowOf.exec(name)?.[1] ?? -1));
      const needed = Math.max(-1, ...rows) + 1;
      while (Number(total.value) < needed && addRow()) {
        /* one more row */
      }
    });
    form?.addEventListener("draft:restored", () => {
      container.querySelectorAll("[data-issue-form]").forEach((card) => {
        syncResolution(card);
        syncFilled(card);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    enterpriseSearch();
    issueRows();
  });
})();
