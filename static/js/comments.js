// Comments: "Reply" moves the comment form under the comment being answered, and the form
// asks for its "shown at" token when the reader starts typing (the page is kept for everyone).
// Progressive enhancement only: without this file "Reply" opens the form via ?replyto=ID#respond
// and the first "Post comment" shows the comment again to be confirmed.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("comment-form");
  if (!form || !form.elements.token || form.elements.token.value || !form.dataset.tokenUrl) {
    return;
  }
  function fetchToken() {
    form.removeEventListener("focusin", fetchToken);
    fetch(form.dataset.tokenUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.token && !form.elements.token.value) {
          form.elements.token.value = data.token;
        }
      })
      .catch(function () {
        // Offline or refused: the server asks the reader to confirm instead.
      });
  }
  form.addEventListener("focusin", fetchToken);
});

document.addEventListener("DOMContentLoaded", function () {
  var respond = document.getElementById("respond");
  var form = document.getElementById("comment-form");
  if (!respond || !form || !form.elements.parent) {
    return;
  }
  var home = document.createComment("comment form");
  respond.parentNode.insertBefore(home, respond);
  var heading = document.getElementById("respond-heading");
  var cancel = respond.querySelector(".cancel-reply");
  var cancelLink = cancel.querySelector("a");

  function focusBody() {
    var body = form.elements.body;
    if (body) {
      body.focus();
    }
  }

  function replyTo(link) {
    var item = document.getElementById("c" + link.dataset.replyTo);
    if (!item) {
      return false;
    }
    item.querySelector(".comment-card").after(respond);
    form.elements.parent.value = link.dataset.replyTo;
    var name = document.createElement("span");
    name.className = "reply-name";
    name.dir = "auto"; // a right-to-left name lays out right-to-left
    name.textContent = link.dataset.replyName;
    heading.replaceChildren("Reply to ", name);
    cancel.hidden = false;
    focusBody();
    return true;
  }

  function cancelReply() {
    home.parentNode.insertBefore(respond, home.nextSibling);
    form.elements.parent.value = "";
    heading.textContent = "Leave a comment";
    cancel.hidden = true;
    focusBody();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.comment-reply");
    if (link && replyTo(link)) {
      event.preventDefault();
    }
  });

  cancelLink.addEventListener("click", function (event) {
    event.preventDefault();
    cancelReply();
  });
});

// The reader chose an order (?corder=): after posting, land on their comment in that order.
// (Without JavaScript a reply's form carries it; the blank form is shared by every order.)
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("comment-form");
  var order = new URLSearchParams(window.location.search).get("corder");
  if (!form || !order || form.action.indexOf("corder=") !== -1) {
    return;
  }
  var action = new URL(form.action, window.location.href);
  action.searchParams.set("corder", order);
  form.action = action.toString();
});
