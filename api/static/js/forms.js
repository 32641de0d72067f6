// Progressive enhancements for the forms rendered by forms/templates/form_macros.html.
// Load with <script src="/static/js/forms.js" defer>. Every form works without this file: "add a
// row" is a submit button the server answers by re-rendering with one more row, an array row is
// removed by ticking its "remove" box (or leaving it blank), and files go up with the plain post.
// Here: rows are added and removed in the page, "required when..." hints follow the answers they
// depend on, and a form with files chosen posts them with a visible progress bar.
// Plain ES2017, no dependencies, no inline script or style (the pages run under a strict CSP).
"use strict";

(function () {
  const STRINGS = {
    vi: {
      remove: "Xóa dòng này",
      uploading: "Đang tải lên…",
      failed: "Tải lên không thành công. Vui lòng thử lại.",
    },
    en: {
      remove: "Remove this row",
      uploading: "Uploading…",
      failed: "The upload failed. Please try again.",
    },
  };

  function strings(element) {
    const holder = element && element.closest("[lang]");
    const lang = (holder ? holder.getAttribute("lang") : document.documentElement.lang) || "vi";
    return lang.toLowerCase().indexOf("en") === 0 ? STRINGS.en : STRINGS.vi;
  }

  function childrenMatching(element, selector) {
    return element ? Array.prototype.filter.call(element.children, (child) => child.matches(selector)) : [];
  }

  // -- arrays: add and remove rows ---------------------------------------------------------------

  function rowsContainer(array) {
    return childrenMatching(array, ".array-rows")[0] || null;
  }

  function rowsOf(array) {
    return childrenMatching(rowsContainer(array), ".array-row");
  }

  function addButton(array) {
    return childrenMatching(array, 'button[name="_add_row"]')[0] || null;
  }

  function ownedBy(element, row) {
    return element.closest(".array-row") === row;
  }

  function renumber(array) {
    rowsOf(array).forEach((row, position) => {
      for (const number of row.querySelectorAll(".array-row__number")) {
        if (ownedBy(number, row)) {
          number.textContent = String(position + 1);
        }
      }
    });
  }

  function updateArrayState(array) {
    const max = parseInt(array.dataset.maxItems || "", 10);
    const button = addButton(array);
    if (button) {
      const full = !isNaN(max) && rowsOf(array).length >= max;
      button.disabled = full;
      button.hidden = full;
    }
  }

  function enhanceRow(array, row) {
    for (const box of childrenMatching(row, ".array-row__remove")) {
      box.hidden = true;
    }
    if (childrenMatching(row, "button.array-remove").length === 0) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "array-remove";
      button.textContent = array.dataset.removeLabel || strings(array).remove;
      row.appendChild(button);
    }
  }

  function enhanceArrays(root) {
    for (const array of root.querySelectorAll("[data-array]")) {
      if (array.dataset.enhanced === "1") {
        continue;
      }
      array.dataset.enhanced = "1";
      for (const row of rowsOf(array)) {
        enhanceRow(array, row);
      }
      updateArrayState(array);
    }
  }

  function renamer(oldPrefix, newPrefix, separator) {
    return (value) => {
      if (value === oldPrefix) {
        return newPrefix;
      }
      if (value.indexOf(oldPrefix + separator) === 0) {
        return newPrefix + value.slice(oldPrefix.length);
      }
      return value;
    };
  }

  // Give a cloned row the names and ids of a new index: goods.1.* -> goods.4.*, f-goods-1-* -> f-goods-4-*.
  function renameTree(root, oldName, newName, oldId, newId) {
    const name = renamer(oldName, newName, ".");
    const id = renamer(oldId, newId, "-");
    const ids = (value) => value.split(/\s+/).filter(Boolean).map(id).join(" ");
    const elements = [root].concat(Array.from(root.querySelectorAll("*")));
    for (const element of elements) {
      const rules = [
        ["name", name],
        ["data-field", name],
        ["data-array", name],
        ["data-name-prefix", name],
        ["data-add-row", name],
        ["id", id],
        ["for", id],
        ["data-id-prefix", id],
        ["data-id-base", id],
        ["aria-describedby", ids],
        ["aria-labelledby", ids],
      ];
      for (const [attribute, rename] of rules) {
        if (element.hasAttribute(attribute)) {
          element.setAttribute(attribute, rename(element.getAttribute(attribute)));
        }
      }
      if (element.matches('button[name="_add_row"]')) {
        element.value = name(element.value);
      }
      if (element.hasAttribute("data-required-when")) {
        try {
          const alternatives = JSON.parse(element.getAttribute("data-required-when"));
          for (const tests of alternatives) {
            for (const test of tests) {
              test.name = name(test.name);
            }
          }
          element.setAttribute("data-required-when", JSON.stringify(alternatives));
        } catch (error) {
          // Leave it: the hint then simply stays as the server wrote it.
        }
      }
    }
  }

  // Empty a row: no values, no errors, no files already uploaded, nested arrays back to one row.
  function clearRow(row) {
    for (const element of row.querySelectorAll(".field-error, .file-current")) {
      element.remove();
    }
    for (const input of row.querySelectorAll('input[type="hidden"]')) {
      if (/\.attachment_id$/.test(input.name)) {
        input.remove();
      } else {
        input.value = "";
      }
    }
    const present = new Set(Array.from(row.querySelectorAll("[id]")).map((element) => element.id));
    for (const element of row.querySelectorAll("[aria-describedby]")) {
      const kept = element
        .getAttribute("aria-describedby")
        .split(/\s+/)
        .filter((id) => id && (present.has(id) || document.getElementById(id)) && !/--(error|file\d+)$/.test(id));
      if (kept.length) {
        element.setAttribute("aria-describedby", kept.join(" "));
      } else {
        element.removeAttribute("aria-describedby");
      }
    }
    for (const element of row.querySelectorAll("[aria-invalid]")) {
      element.removeAttribute("aria-invalid");
    }
    for (const element of [row].concat(Array.from(row.querySelectorAll(".field--invalid")))) {
      element.classList.remove("field--invalid");
    }
    for (const input of row.querySelectorAll("input, textarea, select")) {
      if (input.type === "checkbox") {
        input.checked = false;
        input.defaultChecked = false;
      } else if (input.type === "radio") {
        input.checked = input.value === "";
        input.defaultChecked = input.checked;
      } else if (input.tagName === "SELECT") {
        input.selectedIndex = 0;
      } else if (input.type !== "hidden" && input.type !== "button" && input.type !== "submit") {
        input.value = "";
        if (input.tagName === "TEXTAREA") {
          input.textContent = "";
        } else {
          input.defaultValue = "";
        }
      }
    }
    for (const nested of row.querySelectorAll("[data-array]")) {
      const rows = rowsOf(nested);
      rows.slice(1).forEach((extra) => extra.remove());
      nested.dataset.nextIndex = "1";
      renumber(nested);
      updateArrayState(nested);
    }
  }

  function addRow(array) {
    const rows = rowsOf(array);
    const max = parseInt(array.dataset.maxItems || "", 10);
    if (!rows.length || (!isNaN(max) && rows.length >= max)) {
      return;
    }
    const template = rows[rows.length - 1];
    const clone = template.cloneNode(true);
    const next = parseInt(array.dataset.nextIndex || String(rows.length), 10);
    const newName = array.dataset.array + "." + next;
    const newId = array.dataset.idBase + "-" + next;
    renameTree(clone, template.dataset.namePrefix, newName, template.dataset.idPrefix, newId);
    clone.dataset.index = String(next);
    clearRow(clone);
    enhanceRow(array, clone);
    rowsContainer(array).appendChild(clone);
    array.dataset.nextIndex = String(next + 1);
    renumber(array);
    updateArrayState(array);
    const form = array.closest("form");
    if (form) {
      evaluateConditions(form);
    }
    const first = clone.querySelector("input:not([type=hidden]), textarea, select");
    if (first) {
      first.focus();
    }
  }

  function removeRow(array, row) {
    const rows = rowsOf(array);
    const position = rows.indexOf(row);
    if (rows.length > 1) {
      row.remove();
    } else {
      clearRow(row);
    }
    renumber(array);
    updateArrayState(array);
    const remaining = rowsOf(array);
    const target = remaining[Math.min(position, remaining.length - 1)];
    const focusable = target && target.querySelector("input:not([type=hidden]), textarea, select");
    if (focusable) {
      focusable.focus();
    } else if (addButton(array)) {
      addButton(array).focus();
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    const add = target.closest('button[name="_add_row"]');
    if (add) {
      const array = add.closest("[data-array]");
      if (array && array.dataset.array === add.value && array.dataset.enhanced === "1") {
        event.preventDefault();
        addRow(array);
      }
      return;
    }
    const remove = target.closest("button.array-remove");
    if (remove) {
      const row = remove.closest(".array-row");
      const array = row && row.closest("[data-array]");
      if (array) {
        event.preventDefault();
        removeRow(array, row);
      }
    }
  });

  // -- "required when ..." hints ----------------------------------------------------------------

  function controlValue(form, name) {
    const found = form.elements.namedItem(name);
    if (!found) {
      return "";
    }
    if (typeof RadioNodeList !== "undefined" && found instanceof RadioNodeList) {
      if (found.value) {
        return found.value;
      }
      const checked = Array.prototype.find.call(found, (item) => item.checked && item.type === "checkbox");
      return checked ? checked.value : "";
    }
    if (found.type === "checkbox" || found.type === "radio") {
      return found.checked ? found.value : "";
    }
    return found.value || "";
  }

  function conditionHolds(form, alternatives) {
    return alternatives.some((tests) =>
      tests.every((test) => {
        const value = controlValue(form, test.name);
        return test.values === null ? value.trim() !== "" : test.values.indexOf(value) >= 0;
      }),
    );
  }

  function evaluateConditions(form) {
    for (const field of form.querySelectorAll("[data-required-when]")) {
      let alternatives;
      try {
        alternatives = JSON.parse(field.getAttribute("data-required-when"));
      } catch (error) {
        continue;
      }
      const holds = conditionHolds(form, alternatives);
      field.classList.toggle("field--required-now", holds);
      for (const hint of field.querySelectorAll(".field-condition")) {
        if (hint.closest("[data-field]") === field) {
          hint.hidden = !holds;
        }
      }
      for (const control of field.querySelectorAll("input, select, textarea")) {
        if (control.closest("[data-field]") !== field || control.type === "hidden" || /\.attachment_id$/.test(control.name)) {
          continue;
        }
        if (holds) {
          control.setAttribute("aria-required", "true");
        } else {
          control.removeAttribute("aria-required");
        }
      }
    }
  }

  function formsWithFields(root) {
    const found = new Set();
    for (const field of root.querySelectorAll("[data-field]")) {
      const form = field.closest("form");
      if (form) {
        found.add(form);
      }
    }
    return Array.from(found);
  }

  for (const type of ["change", "input"]) {
    document.addEventListener(type, (event) => {
      const form = event.target instanceof Element ? event.target.closest("form") : null;
      if (form && form.querySelector("[data-required-when]")) {
        evaluateConditions(form);
      }
    });
  }

  // -- uploads with a progress bar --------------------------------------------------------------

  function uploadLabels(form) {
    const holder = form.querySelector("[data-uploading-label]");
    const fallback = strings(form);
    return {
      uploading: (holder && holder.dataset.uploadingLabel) || fallback.uploading,
      failed: (holder && holder.dataset.uploadFailedLabel) || fallback.failed,
    };
  }

  function withoutHash(url) {
    const parsed = new URL(url, document.baseURI);
    parsed.hash = "";
    return parsed.href;
  }

  // Show the HTML the server answered (the form again, with its errors) in place of this page.
  // Scripts already on the page keep their document-level listeners; scripts the new page adds
  // are loaded; listeners waiting for DOMContentLoaded run again for the new content.
  function replaceDocument(html) {
    const loaded = new Set(Array.from(document.scripts).map((script) => script.src).filter(Boolean));
    const parsed = new DOMParser().parseFromString(html, "text/html");
    const fresh = [];
    for (const script of parsed.querySelectorAll("script[src]")) {
      const src = new URL(script.getAttribute("src"), document.baseURI).href;
      if (!loaded.has(src)) {
        fresh.push(script);
      }
    }
    document.replaceChild(document.adoptNode(parsed.documentElement), document.documentElement);
    for (const old of fresh) {
      const script = document.createElement("script");
      for (const attribute of Array.from(old.attributes)) {
        script.setAttribute(attribute.name, attribute.value);
      }
      old.replaceWith(script);
    }
    document.dispatchEvent(new Event("DOMContentLoaded"));
    window.scrollTo(0, 0);
    const focus = document.querySelector(".error-summary") || document.querySelector('[aria-invalid="true"]');
    if (focus) {
      focus.focus();
    }
  }

  function upload(form, submitter) {
    const labels = uploadLabels(form);
    const data = new FormData(form);
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
    }
    const url = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;

    const box = document.createElement("div");
    box.className = "upload-progress";
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const status = document.createElement("p");
    status.className = "upload-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    status.textContent = labels.uploading;
    box.appendChild(bar);
    box.appendChild(status);
    if (submitter && submitter.parentNode) {
      submitter.parentNode.insertBefore(box, submitter.nextSibling);
    } else {
      form.appendChild(box);
    }
    const buttons = Array.from(form.querySelectorAll('button, input[type="submit"]')).filter((b) => !b.disabled);
    buttons.forEach((button) => {
      button.disabled = true;
    });
    form.setAttribute("aria-busy", "true");

    const fail = () => {
      buttons.forEach((button) => {
        button.disabled = false;
      });
      form.removeAttribute("aria-busy");
      bar.remove();
      status.setAttribute("role", "alert");
      status.textContent = labels.failed;
    };

    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-Requested-With", "fetch");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) {
        const percent = Math.round((event.loaded / event.total) * 100);
        bar.value = percent;
        status.textContent = labels.uploading + " " + percent + "%";
      }
    });
    xhr.addEventListener("load", () => {
      const type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("application/json") >= 0) {
        try {
          const body = JSON.parse(xhr.responseText);
          if (body && typeof body.redirect === "string") {
            window.location.assign(body.redirect);
            return;
          }
        } catch (error) {
          // fall through
        }
      }
      // The server redirected after a successful post (303): go there as a browser would.
      if (xhr.status < 400 && xhr.responseURL && withoutHash(xhr.responseURL) !== withoutHash(url)) {
        window.location.assign(xhr.responseURL);
        return;
      }
      if (type.indexOf("text/html") >= 0) {
        replaceDocument(xhr.responseText);
        return;
      }
      fail();
    });
    xhr.addEventListener("error", fail);
    xhr.addEventListener("abort", fail);
    xhr.send(data);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) {
      return;
    }
    if (form.dataset.uploadProgress === "off" || (form.getAttribute("method") || "get").toLowerCase() !== "post") {
      return;
    }
    const chosen = Array.from(form.querySelectorAll('input[type="file"]')).some((input) => input.files && input.files.length > 0);
    if (!chosen || typeof FormData !== "function" || typeof XMLHttpRequest !== "function") {
      return;
    }
    event.preventDefault();
    upload(form, event.submitter || null);
  });

  // -- start (again after a document replaced in place) ------------------------------------------

  function start() {
    enhanceArrays(document);
    for (const form of formsWithFields(document)) {
      evaluateConditions(form);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
  if (document.readyState !== "loading") {
    start();
  }
})();
