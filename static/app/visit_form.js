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
  function wireResolution(card) {
    const box = card.querySelector("input[name$='-solved_on_site']");
    const resolution = card.querySelector("[data-resolution]");
    if (!box || !resolution) return;
    const sync = () => {
      const show = box.checked || resolution.hasAttribute("data-has-errors");
      resolution.classList.toggle("d-none", !show);
    };
    box.addEventListener("change", () => {
      resolution.removeAttribute("data-has-errors");
      sync();
      if (box.checked) resolution.querySelector("textarea")?.focus();
    });
    sync();
  }

  // --- "Add another issue": clone the formset's empty form, renumbered.
  function issueRows() {
    const container = document.getElementById("issue-forms");
    const template = document.getElementById("issue-empty-form");
    const button = document.getElementById("add-issue");
    const total = document.querySelector("input[name$='-TOTAL_FORMS']");
    if (!container || !template || !button || !total) return;
    const max = Number(document.querySelector("input[name$='-MAX_NUM_FORMS']")?.value || 1000);
    container.querySelectorAll("[data-issue-form]").forEach(wireResolution);
    button.hidden = false;
    button.addEventListener("click", () => {
      const index = Number(total.value);
      if (index >= max) return;
      const html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
      const holder = document.createElement("div");
      holder.innerHTML = html; // server-rendered template of our own form, no user data
      const card = holder.firstElementChild;
      container.appendChild(card);
      total.value = String(index + 1);
      wireResolution(card);
      card.querySelector("input[type=text]")?.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    enterpriseSearch();
    issueRows();
  });
})();
