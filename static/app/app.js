// Enterprise Visit Tracker: progressive enhancements only; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Disable a form's submit buttons once it is sent, so a double click posts once.
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
    });
  }
  // Confirm destructive-looking actions.
  for (const el of document.querySelectorAll("[data-confirm]")) {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  }
});
