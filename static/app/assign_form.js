// The assign and reassign forms of the admin: the owner picker offers only the members of the
// lead department chosen (each option lists its departments in data-departments). Without
// this file every member is offered and the server refuses a wrong pick with a message.
(() => {
  "use strict";

  function narrow(department, owner) {
    const chosen = department.value;
    for (const option of owner.options) {
      if (!option.value) continue; // the empty choice: no owner yet
      const members = (option.dataset.departments || "").split(" ");
      const offered = !chosen || members.includes(chosen);
      option.hidden = !offered;
      option.disabled = !offered;
    }
    const selected = owner.options[owner.selectedIndex];
    if (selected && selected.disabled) owner.value = "";
  }

  function init() {
    const department = document.querySelector("select[name=department]");
    const owner = document.querySelector("select[name=owner]");
    if (!department || !owner) return;
    department.addEventListener("change", () => narrow(department, owner));
    narrow(department, owner);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
