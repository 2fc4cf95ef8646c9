// Text limits on the page, counted exactly as the server counts them (portal/core/textlength.py):
// a counter near a field's limit, and a form that would be refused is not sent at all, so that
// nothing typed is lost on the way. The server checks everything again; the page works without
// this file.
(function () {
  "use strict";
  const nl = document.documentElement.lang !== "en";
  const numbers = new Intl.NumberFormat(nl ? "nl-NL" : "en-GB");

  // One character: one Unicode code point, with CR LF (and a lone CR) as one line break.
  function count(text) {
    return Array.from(String(text).replace(/\r\n?/g, "\n")).length;
  }
  function format(n) { return numbers.format(n); }
  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, (all, name) => (name in values ? values[name] : all));
  }


  const NEAR = 0.9; // the counter shows from 90% of the limit

  function limitLine(field) { return document.getElementById(field.id + "-limit"); }

  function update(field) {
    const line = limitLine(field);
    if (!line) return;
    const max = Number(field.dataset.maxChars);
    if (!line.dataset.base) line.dataset.base = line.textContent;
    // The count is never more than the string's length: far from the limit, no need to count
    // (a pasted megabyte is counted only once it matters).
    const n = field.value.length < max * NEAR ? 0 : count(field.value);
    let extra = "";
    if (n > max) extra = fill(line.dataset.over, { count: format(n) });
    else if (n >= max * NEAR) extra = fill(line.dataset.left, { left: format(max - n) });
    line.textContent = extra ? line.dataset.base + " " + extra : line.dataset.base;
    line.classList.toggle("error", n > max);
  }

  // A refusal shown at the field itself, as the server would show it; the text stays.
  function refuse(field, message) {
    let error = document.getElementById(field.id + "-error");
    if (!error) {
      error = document.createElement("p");
      error.className = "error";
      error.id = field.id + "-error";
      field.before(error);
      const described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (!described.includes(error.id)) described.push(error.id);
      field.setAttribute("aria-describedby", described.join(" "));
    }
    error.setAttribute("role", "alert");
    error.textContent = message;
    field.setAttribute("aria-invalid", "true");
    field.closest(".field") && field.closest(".field").classList.add("has-error");
  }

  window.portalText = { count: count, format: format, fill: fill, refuse: refuse };

  // Which field of a form is over its limit, with the text that says so (null: none).
  function overLimit(form) {
    for (const field of form.querySelectorAll("[data-max-chars]")) {
      const max = Number(field.dataset.maxChars);
      const n = field.value.length > max ? count(field.value) : 0;
      if (n > max) return { field: field, text: fill(field.dataset.tooLong, { count: format(n) }) };
    }
    return null;
  }

  // How many bytes the browser would send for this form (close enough to compare with a limit
  // of megabytes: text as sent, files by their size).
  function bodySize(form) {
    const encoder = new TextEncoder();
    const multipart = (form.enctype || "").indexOf("multipart") === 0;
    let size = 0;
    for (const [name, value] of new FormData(form).entries()) {
      if (typeof value === "string") {
        size += multipart ? encoder.encode(value).length + name.length + 100 : encodeURIComponent(value).length + name.length + 2;
      } else {
        size += value.size + name.length + 200;
      }
    }
    return size;
  }

  function refuseForm(form, message) {
    let box = form.querySelector(".error-summary.too-large");
    if (!box) {
      box = document.createElement("div");
      box.className = "error-summary too-large";
      box.setAttribute("role", "alert");
      form.prepend(box);
    }
    box.textContent = message;
  }

  // Capturing on the document: runs before any other submit handler of the page (live.js), so
  // a refused form is stopped before anything is queued or sent.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    const over = overLimit(form);
    if (over) {
      event.preventDefault();
      event.stopImmediatePropagation();
      refuse(over.field, over.text);
      over.field.focus();
      return;
    }
    const limit = Number(document.body.dataset.maxBody || 0);
    if (limit && bodySize(form) > limit) {
      event.preventDefault();
      event.stopImmediatePropagation();
      refuseForm(form, document.body.dataset.tooLarge || "");
    }
  }, true);

  document.addEventListener("input", (event) => {
    const field = event.target;
    if (field && field.dataset && field.dataset.maxChars) update(field);
  });
  document.querySelectorAll("[data-max-chars]").forEach(update);
})();
