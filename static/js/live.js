// Live coverage on a story page (templates/articles/live/blog.html). Progressive enhancement:
// without this file the page shows every entry on each load and says when it was last updated.
//
// Opens the story's stream (server-sent events held by Pushpin, see newsroom/grip.py). New
// entries go on top; a reader scrolled down into the entries is not moved: a "N new updates"
// button shows them. Each arrival is announced politely (a status region; focus never moves).
// While the stream cannot connect (no Pushpin: the app answers 204; a proxy or network that
// drops it: the browser keeps trying), the page polls the small entries fragment every POLL_MS
// (the front cache keeps it a few seconds); once the stream is open again, polling stops.
"use strict";

(function () {
  var POLL_MS = 4000; // an entry reaches a polling reader within about 5 s

  function start() {
    var blog = document.getElementById("live");
    if (!blog || !blog.dataset.streamUrl) {
      return;
    }
    var list = document.getElementById("live-entries");
    var announcer = blog.querySelector(".live-announcer");
    var newBox = blog.querySelector(".live-new");
    var newButton = blog.querySelector(".live-new-button");
    var held = [];
    var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var pollTimer = null;

    function lastId() {
      var newest = 0;
      list.querySelectorAll(".live-entry").forEach(function (entry) {
        newest = Math.max(newest, parseInt(entry.dataset.id, 10) || 0);
      });
      return newest;
    }

    function parse(html) {
      var template = document.createElement("template");
      template.innerHTML = html.trim();
      return template.content;
    }

    function readerIsBelowTop() {
      return list.getBoundingClientRect().top < 0;
    }

    function announce(count) {
      announcer.textContent = "";
      window.setTimeout(function () {
        announcer.textContent = count === 1 ? "1 new update." : count + " new updates.";
      }, 100);
    }

    // A new key event joins the summary at the top (when the page has one).
    function listKeyEvent(entry) {
      var summary = blog.querySelector(".live-key-events ul");
      if (!summary || !entry.classList.contains("live-entry-key")) {
        return;
      }
      var link = document.createElement("a");
      link.href = "#" + entry.id;
      link.appendChild(entry.querySelector("time").cloneNode(true));
      var text = entry.querySelector(".live-entry-body").textContent.trim().split("\n")[0];
      link.appendChild(document.createTextNode(" " + text.slice(0, 110)));
      var item = document.createElement("li");
      item.appendChild(link);
      summary.insertBefore(item, summary.firstChild);
    }

    // `entries`: entry elements, oldest first; each goes on top.
    function insert(entries) {
      var empty = list.querySelector(".live-empty");
      if (empty) {
        empty.remove();
      }
      var anchor = list.querySelector(".live-entry");
      entries.forEach(function (entry) {
        if (!reduceMotion) {
          entry.classList.add("live-entry-new");
        }
        list.insertBefore(entry, anchor);
        listKeyEvent(entry);
        anchor = entry;
      });
    }

    function showHeld() {
      insert(held.slice().reverse());
      held = [];
      newBox.hidden = true;
      list.scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth", block: "start" });
    }

    newButton.addEventListener("click", showHeld);

    // `entries`: new entry elements, newest first.
    function arrived(entries) {
      if (!entries.length) {
        return;
      }
      if (readerIsBelowTop()) {
        held = entries.concat(held);
        newButton.textContent =
          held.length === 1 ? "1 new update" : held.length + " new updates";
        newBox.hidden = false;
      } else {
        insert(entries.slice().reverse());
      }
      announce(entries.length);
    }

    function receive(id, html) {
      var fresh = parse(html).querySelector(".live-entry");
      if (!fresh) {
        return;
      }
      var existing = document.getElementById("entry-" + id);
      if (existing) {
        existing.replaceWith(fresh); // an edit
      } else if (!held.some(function (entry) { return entry.dataset.id === String(id); })) {
        arrived([fresh]);
      }
    }

    function poll() {
      // Past the browser's own copy (it may keep the fragment 5 s): the front cache answers.
      fetch(blog.dataset.entriesUrl, { credentials: "omit", cache: "no-cache" })
        .then(function (response) {
          return response.ok ? response.text() : "";
        })
        .then(function (html) {
          if (!html) {
            return;
          }
          var known = lastId();
          var incoming = Array.prototype.slice.call(parse(html).querySelectorAll(".live-entry"));
          incoming.forEach(function (entry) {
            var current = document.getElementById(entry.id);
            if (current && current.dataset.updated !== entry.dataset.updated) {
              current.replaceWith(entry);
            }
          });
          arrived(
            incoming.filter(function (entry) {
              return parseInt(entry.dataset.id, 10) > known && !document.getElementById(entry.id);
            })
          );
        })
        .catch(function () {
          // Offline for a moment: the next poll tries again.
        });
    }

    function startPolling() {
      if (pollTimer === null) {
        pollTimer = window.setInterval(poll, POLL_MS);
      }
    }

    function stopPolling() {
      if (pollTimer !== null) {
        window.clearInterval(pollTimer);
        pollTimer = null;
      }
    }

    if (!window.EventSource) {
      startPolling();
      return;
    }
    var source = new EventSource(blog.dataset.streamUrl + "?after=" + lastId());
    source.addEventListener("open", function () {
      blog.dataset.liveState = "connected"; // from now on Pushpin holds every update for us
      stopPolling();
    });
    source.addEventListener("entry", function (event) {
      var data = JSON.parse(event.data);
      receive(data.id, data.html);
    });
    source.addEventListener("remove", function (event) {
      var gone = document.getElementById("entry-" + JSON.parse(event.data).id);
      if (gone) {
        gone.remove();
      }
    });
    // The desk ended the coverage: say so as a reload would, and stop following.
    source.addEventListener("status", function (event) {
      var data = JSON.parse(event.data);
      if (data.live !== false) {
        return;
      }
      source.close();
      stopPolling();
      var status = blog.querySelector(".live-status");
      var ended = parse(data.html || "").querySelector(".live-status");
      if (status && ended) {
        status.replaceWith(ended);
      }
      document.querySelectorAll(".story-header .live-badge").forEach(function (badge) {
        badge.remove();
      });
      blog.dataset.liveState = "ended";
      announcer.textContent = "";
      window.setTimeout(function () {
        announcer.textContent = "Live coverage has ended.";
      }, 100);
    });
    source.addEventListener("error", function () {
      if (blog.dataset.liveState === "ended") {
        return;
      }
      // Refused (no Pushpin in front: closed for good) or dropped (the browser tries again):
      // poll meanwhile. A reopened stream replays from the last entry it carried.
      blog.dataset.liveState = "polling";
      startPolling();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
