// The live desk (admin): Enter posts the entry, Shift+Enter starts a new line. Without this file
// the "Post entry" button posts.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("live-desk-form");
  if (!form || !form.elements.body) {
    return;
  }
  form.elements.body.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (form.elements.body.value.trim()) {
        form.requestSubmit(form.querySelector("button[value=post]"));
      }
    }
  });
});
