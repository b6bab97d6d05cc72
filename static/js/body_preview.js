// The article admin's live preview: the body as readers will get it, beside the body box while
// an editor types. The server renders it (POST to the box's data-preview-url, the same Markdown
// and sanitiser as a saved story), so what shows here is exactly what the page will show.
// Without JavaScript the form works as before, without the preview.
(function () {
  "use strict";

  const WAIT_MS = 300; // after the last key press

  function start() {
    const box = document.getElementById("id_body");
    const url = box && box.dataset.previewUrl;
    if (!url || !box.form) {
      return;
    }
    const token = box.form.querySelector("input[name=csrfmiddlewaretoken]");
    const pair = document.createElement("div");
    pair.className = "body-with-preview";
    const panel = document.createElement("section");
    panel.className = "body-preview";
    panel.setAttribute("aria-labelledby", "body-preview-heading");
    const heading = document.createElement("h3");
    heading.id = "body-preview-heading";
    heading.textContent = "Preview";
    const removed = document.createElement("p");
    removed.className = "body-preview-removed";
    removed.hidden = true;
    const output = document.createElement("div");
    output.className = "body-preview-output";
    panel.append(heading, removed, output);
    box.replaceWith(pair);
    pair.append(box, panel);

    let timer = null;
    let running = null;

    function refresh() {
      if (running) {
        running.abort();
      }
      running = new AbortController();
      fetch(url, {
        method: "POST",
        body: new URLSearchParams({ body: box.value }),
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" },
        signal: running.signal,
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("the server answered " + response.status);
          }
          return response.json();
        })
        .then(function (preview) {
          output.innerHTML = preview.html; // sanitised by the server (articles/markdown.py)
          removed.hidden = preview.removed.length === 0;
          removed.textContent = "Readers will not see: " + preview.removed.join("; ") + ".";
        })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            output.textContent = "The preview could not be updated (" + error.message + "). " +
              "Your text is safe: saving works as usual.";
          }
        });
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, WAIT_MS);
    });
    refresh();
  }

  // The admin loads form media in <head>, before the form exists.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
