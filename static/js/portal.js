// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the first field with an error, so keyboard and screen-reader users land there.
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
});
