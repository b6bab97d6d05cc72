// Progressive enhancement only: every page works without this file.
"use strict";

// A table's "scroll sideways" hint is shown on narrow screens (site.css); it is hidden here
// wherever the table fits its box, and shown again when a turned phone makes it not fit.
(function () {
  function updateScrollHints() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      var hint = box.previousElementSibling;
      if (hint && hint.classList.contains("scroll-hint")) {
        hint.hidden = box.scrollWidth <= box.clientWidth;
      }
    });
  }
  updateScrollHints();
  window.addEventListener("resize", updateScrollHints);
})();
