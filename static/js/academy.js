// The site's own behaviour, loaded on every page (no inline script: the CSP forbids it).
(function () {
  "use strict";
  // The error summary at the top of a form with errors takes the focus, so a screen reader
  // reads it first and a keyboard user starts from it; each link moves the focus to its field.
  function errorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-error-field]");
      if (!link) {
        return;
      }
      var field = document.getElementById(link.getAttribute("data-error-field"));
      if (!field) {
        return;
      }
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", errorSummary);
  } else {
    errorSummary();
  }
})();
