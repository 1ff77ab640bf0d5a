// The partner portal's confirmation pages: move the focus to the question, so that screen
// readers announce it and a keyboard user starts from it. The page works the same without this.
(function () {
  "use strict";
  function focusQuestion() {
    var heading = document.getElementById("confirm-heading");
    if (heading) {
      heading.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusQuestion);
  } else {
    focusQuestion();
  }
})();
