// The comment moderation queue (admin list of comments): keys to move between comments and
// decide them. Without this script every action is a plain button or link in its row.
// j/k next/previous comment, a approve, x reject, s spam, r reply, z undo the last decision.
// The keys act only when the focus is in the list (or on nothing), never while typing, and the
// "Use these keys" switch turns them off (remembered in this browser).
// Loaded in the page's head (the admin's media): it starts once the page is parsed.
function startCommentQueue() {
  "use strict";
  const table = document.getElementById("result_list");
  if (!table || !table.tBodies.length) {
    return;
  }
  const INDEX = "comment-queue:index";
  const ON = "comment-queue:keys";
  const toggle = document.getElementById("cq-keys-on");
  const rows = () => Array.from(table.tBodies[0].rows);
  let current = -1;

  if (toggle) {
    toggle.closest("label").hidden = false;
    toggle.checked = localStorage.getItem(ON) !== "off";
    toggle.addEventListener("change", () => {
      localStorage.setItem(ON, toggle.checked ? "on" : "off");
    });
  }

  function mark(index) {
    rows().forEach((row, i) => row.classList.toggle("cq-current", i === index));
    current = index;
  }

  function focusRow(index) {
    const all = rows();
    if (!all.length) {
      return;
    }
    const i = Math.max(0, Math.min(index, all.length - 1));
    mark(i);
    all[i].focus();
  }

  rows().forEach((row, i) => {
    row.tabIndex = -1;
  });

  document.addEventListener("focusin", (event) => {
    const row = event.target.closest && event.target.closest("#result_list tbody tr");
    if (row) {
      mark(rows().indexOf(row));
    }
  });

  // After a decision the page comes back: the focus goes to the row now at the same place.
  table.addEventListener("click", (event) => {
    const action = event.target.closest(".cq-action");
    if (action) {
      sessionStorage.setItem(INDEX, String(Math.max(current, 0)));
    }
  });
  const back = sessionStorage.getItem(INDEX);
  if (back !== null) {
    sessionStorage.removeItem(INDEX);
    focusRow(Number(back));
  }

  function typing(target) {
    if (target.isContentEditable) {
      return true;
    }
    const field = target.closest("input, textarea, select");
    return field !== null && field.type !== "checkbox";
  }

  document.addEventListener("keydown", (event) => {
    if (toggle && !toggle.checked) {
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) {
      return;
    }
    const inList = event.target === document.body || table.contains(event.target);
    if (!inList) {
      return;
    }
    const key = event.key;
    if (key === "j" || key === "k") {
      event.preventDefault();
      focusRow(current < 0 ? 0 : current + (key === "j" ? 1 : -1));
      return;
    }
    if (key === "z") {
      const undo = document.querySelector(".cq-undo [data-key='z']");
      if (undo) {
        event.preventDefault();
        undo.click();
      }
      return;
    }
    const row = rows()[current];
    const action = row && row.querySelector(`.cq-action[data-key='${CSS.escape(key)}']`);
    if (action) {
      event.preventDefault();
      sessionStorage.setItem(INDEX, String(current));
      action.click();
    }
  });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", startCommentQueue);
} else {
  startCommentQueue();
}
