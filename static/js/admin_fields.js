// The admin's autocomplete boxes (Select2), made accessible and unambiguous on the story and
// event forms: the search input Select2 adds is named after its field; the "clear" cross is
// moved out of the list of chosen items (only <li> belong there) and says what it clears, so
// the cross beside an athlete is not taken for deleting the result row. Select2 draws them again
// on every change: a MutationObserver repeats the work.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  function fieldName(element) {
    var row = element.closest(".form-row, td");
    var select = row && row.querySelector("select");
    var label = select && document.querySelector("label[for='" + select.id + "']");
    if (label) {
      return label.textContent.replace(/:$/, "").trim();
    }
    var column = element.closest("td");
    var heading = column && column.closest("table").querySelectorAll("thead th")[column.cellIndex];
    return heading ? heading.textContent.trim() : "this field";
  }

  function tidy() {
    document.querySelectorAll(".select2-search__field:not([aria-label])").forEach(function (input) {
      input.setAttribute("aria-label", "Search " + fieldName(input));
    });
    document.querySelectorAll(".select2-selection__rendered > .select2-selection__clear").forEach(function (cross) {
      cross.parentNode.parentNode.appendChild(cross);
    });
    document.querySelectorAll(".select2-selection__clear:not([aria-label])").forEach(function (cross) {
      var what = "Clear " + fieldName(cross) + " (keeps the row)";
      cross.setAttribute("aria-label", what);
      cross.setAttribute("title", what);
    });
  }
  tidy();
  new MutationObserver(tidy).observe(document.body, { childList: true, subtree: true });
});
