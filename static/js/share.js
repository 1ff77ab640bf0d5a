// "Copy link" buttons of the certificate share block (progressive enhancement: without
// JavaScript the button stays hidden and the link is ordinary, selectable text).
(function () {
  "use strict";
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function say(button, text) {
    var status = button.parentNode.querySelector(".share-copy-status");
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
  }
  document.querySelectorAll("button[data-copy-link]").forEach(function (button) {
    var link = document.getElementById(button.getAttribute("data-copy-link"));
    if (!link) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = link.href;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { say(button, button.getAttribute("data-copied-text")); },
          function () { selectText(link); say(button, button.getAttribute("data-failed-text")); }
        );
      } else {
        selectText(link);
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
        say(button, button.getAttribute(copied ? "data-copied-text" : "data-failed-text"));
      }
    });
  });
})();
