// The story form in the admin (articles/desk.py): live word count and reading time, a body box
// that grows, a question before leaving with unsaved changes, autosave while typing, and who
// else has the story open. Without this file the form works as before.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var desk = document.getElementById("desk");
  var form = desk && desk.closest("form");
  if (!form) {
    return;
  }
  var AUTOSAVED = ["title", "standfirst", "body", "hero_alt", "hero_caption", "hero_credit"];
  var WORDS_PER_MINUTE = 220;
  var token = form.elements.csrfmiddlewaretoken.value;
  var dirty = false;
  var submitting = false;
  var autosaveTimer = null;

  function post(url, fields) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token);
    Object.keys(fields).forEach(function (name) {
      data.append(name, fields[name]);
    });
    return fetch(url, { method: "POST", body: data, credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : Promise.reject(r.status);
    });
  }

  function countWords() {
    var text = ["standfirst", "body"].map(function (name) {
      return form.elements[name] ? form.elements[name].value : "";
    }).join(" ");
    var words = text.split(/\s+/).filter(Boolean).length;
    document.getElementById("desk-words").textContent = words;
    document.getElementById("desk-minutes").textContent = Math.max(1, Math.round(words / WORDS_PER_MINUTE));
  }

  function grow(box) {
    // Browsers without `field-sizing: content` (site's CSS) grow the body box here.
    if (box.scrollHeight > box.clientHeight) {
      box.style.height = box.scrollHeight + 4 + "px";
    }
  }

  function autosave() {
    var url = desk.dataset.autosaveUrl;
    var fields = {};
    AUTOSAVED.forEach(function (name) {
      if (form.elements[name]) {
        fields[name] = form.elements[name].value;
      }
    });
    var status = document.getElementById("desk-autosave-status");
    post(url, fields).then(function (answer) {
      status.textContent = "· Autosaved at " + answer.saved_at;
    }, function () {
      status.textContent = "· Autosave failed: your text is still here; save the story to keep it.";
    });
  }

  form.addEventListener("input", function (event) {
    dirty = true;
    countWords();
    if (event.target.name === "body") {
      grow(event.target);
    }
    if (AUTOSAVED.indexOf(event.target.name) !== -1) {
      clearTimeout(autosaveTimer);
      autosaveTimer = setTimeout(autosave, 2000);
    }
  });
  form.addEventListener("change", function () {
    dirty = true;
  });
  form.addEventListener("submit", function () {
    submitting = true;
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  var presenceUrl = desk.dataset.presenceUrl;
  if (presenceUrl) {
    var shown = document.getElementById("desk-presence");
    var beat = function () {
      post(presenceUrl, {}).then(function (answer) {
        shown.textContent = answer.others.length
          ? "Also editing this story now: " + answer.others.join(", ") +
            ". Saving over their changes is refused, so nothing is lost."
          : "";
      }, function () {});
    };
    setInterval(beat, 15000);
    // Leaving the page (closing the tab, going elsewhere, saving): the others stop seeing this
    // editor at once rather than after the heartbeat's expiry. Back from the browser's page
    // cache: here again.
    window.addEventListener("pagehide", function () {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", token);
      data.append("leave", "1");
      if (navigator.sendBeacon) {
        navigator.sendBeacon(presenceUrl, data);
      }
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        beat();
      }
    });
  }
  if (form.elements.body) {
    grow(form.elements.body);
  }
});
