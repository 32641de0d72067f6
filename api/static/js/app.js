// Small progressive enhancements shared by every page. Nothing here is needed for a page to work.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Forms that change something irreversible ask once more.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }

  // A status filter offers the statuses of the procedure chosen beside it (data-procedures on
  // each option); the server renders the same choice for the page it answers.
  for (const select of document.querySelectorAll("select[data-statuses-of]")) {
    const procedure = document.getElementById(select.dataset.statusesOf);
    if (!procedure) continue;
    const offer = () => {
      for (const option of select.options) {
        if (!option.value) continue;
        const fits = !procedure.value || option.dataset.procedures.split(" ").includes(procedure.value);
        option.hidden = option.disabled = !fits;
        if (!fits && option.selected) select.value = "";
      }
    };
    procedure.addEventListener("change", offer);
    offer();
  }
});
