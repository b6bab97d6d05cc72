// Live results on pages showing provisional results (an event page, a story covering events, a
// competition's medal table): each element marked data-live-results="<event pk>,..." is replaced by its fresh copy from this
// same page, fetched again whenever one of those events changes. The events' stream is held by
// Pushpin (newsroom/grip.py); without it (the app answers 204) the page checks every POLL_MS.
// Progressive enhancement: without this file each load shows the results as they are.
"use strict";

(function () {
  if (window.newsroomLiveResults) {
    return; // included once per provisional event: one stream for them all
  }
  window.newsroomLiveResults = true;
  var POLL_MS = 30000;
  var script = document.currentScript;

  function start() {
    var regions = document.querySelectorAll("[data-live-results]");
    if (!regions.length) {
      return;
    }
    var events = [];
    regions.forEach(function (region) {
      region.dataset.liveResults.split(",").forEach(function (pk) {
        if (events.indexOf(pk) === -1) {
          events.push(pk);
        }
      });
    });
    var announcer = document.createElement("div");
    announcer.className = "visually-hidden";
    announcer.setAttribute("role", "status");
    document.body.appendChild(announcer);
    var pending = null;

    function refresh() {
      pending = null;
      // no-cache: the browser's copy may be served stale while it revalidates (the page allows
      // that); ask the server (or the front cache, already purged) instead.
      fetch(window.location.pathname, { credentials: "same-origin", cache: "no-cache" })
        .then(function (response) {
          return response.ok ? response.text() : "";
        })
        .then(function (html) {
          if (!html) {
            return;
          }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var changed = false;
          document.querySelectorAll("[data-live-results]").forEach(function (region) {
            var replacement = fresh.getElementById(region.id);
            if (replacement && replacement.innerHTML !== region.innerHTML) {
              region.replaceWith(document.importNode(replacement, true));
              changed = true;
            }
          });
          if (changed) {
            announcer.textContent = "Results updated.";
          }
        })
        .catch(function () {
          // Offline for a moment: the next change or poll tries again.
        });
    }

    // Several rows are often saved at once: one fetch for a burst of changes.
    function soon() {
      if (pending === null) {
        pending = window.setTimeout(refresh, 500);
      }
    }

    if (!window.EventSource || !script) {
      window.setInterval(refresh, POLL_MS);
      return;
    }
    var opened = false;
    var source = new EventSource(
      // age: seconds since this page was loaded; the stream first reports what changed since
      // (the server's clock decides, not this browser's).
      script.dataset.streamUrl +
        "?events=" +
        events.join(",") +
        "&age=" +
        Math.round(window.performance.now() / 1000)
    );
    source.addEventListener("results", soon);
    source.addEventListener("open", function () {
      document.documentElement.dataset.liveResultsState = "connected";
      if (opened) {
        soon(); // reconnected: whatever changed meanwhile
      }
      opened = true;
    });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        window.setInterval(refresh, POLL_MS);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
