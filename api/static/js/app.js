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
});
