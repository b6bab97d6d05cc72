// The image library's picker beside a story's body (articles/library_admin.py): each picture's
// "Insert into body" button puts its reference on a line of its own at the cursor. Without
// JavaScript the buttons stay hidden and the reference is there to copy.
(function () {
  "use strict";
  function insert(body, snippet) {
    var start = body.selectionStart != null ? body.selectionStart : body.value.length;
    var end = body.selectionEnd != null ? body.selectionEnd : start;
    var before = body.value.slice(0, start);
    var after = body.value.slice(end);
    var lead = before === "" || /\n\n$/.test(before) ? "" : (/\n$/.test(before) ? "\n" : "\n\n");
    var tail = after === "" || /^\n\n/.test(after) ? "" : (/^\n/.test(after) ? "\n" : "\n\n");
    body.value = before + lead + snippet + tail + after;
    var caret = (before + lead + snippet).length;
    body.focus();
    body.setSelectionRange(caret, caret);
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function ready() {
    var body = document.getElementById("id_body");
    if (!body) return;
    document.querySelectorAll("button.library-insert").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        insert(body, button.getAttribute("data-insert"));
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
