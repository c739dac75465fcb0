// docqa chat: small enhancements on top of htmx. The page works without this file or without JS.
(function () {
  "use strict";

  function ask() { return document.getElementById("ask-form"); }

  // Show which question is being worked on next to the loading indicator.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail.elt;
    if (form === ask()) {
      var q = form.querySelector("[name=question]").value.trim();
      var slot = document.getElementById("loading-question");
      if (slot) { slot.textContent = q ? " for “" + q + "”" : ""; }
    }
  });

  // Clear the box for the next question, and bring the new answer into view.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (form === ask() && evt.detail.successful) {
      var input = form.querySelector("[name=question]");
      input.value = "";
      input.focus();
    }
  });
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "thread") {
      var turns = evt.detail.target.querySelectorAll(".turn, .error");
      var last = turns[turns.length - 1];
      var box = document.getElementById("ask-form").getBoundingClientRect();
      // Scroll only when the new answer is not already in full view above the question box.
      if (last) {
        var r = last.getBoundingClientRect();
        if (r.top < 0 || r.bottom > box.top) { last.scrollIntoView({ block: "start", behavior: "smooth" }); }
      }
    }
    if (evt.detail.target && evt.detail.target.id === "upload-status") {
      var upload = document.getElementById("upload-form");
      if (upload && !evt.detail.target.querySelector(".error")) { upload.querySelector("[type=file]").value = ""; }
    }
  });

  // Server errors (5xx) and lost connections are not swapped in by htmx: say so where the user looks.
  function report(evt, text) {
    var form = evt.detail.elt;
    var where = form === ask() ? document.getElementById("thread") : document.getElementById("upload-status");
    if (!where) { return; }
    var box = document.createElement("div");
    box.className = "error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    if (form === ask()) { where.appendChild(box); } else { where.replaceChildren(box); }
  }
  document.addEventListener("htmx:responseError", function (evt) {
    report(evt, "Sorry, the server could not answer (error " + evt.detail.xhr.status + "). Try again in a moment.");
  });
  document.addEventListener("htmx:sendError", function (evt) {
    report(evt, "The server can't be reached. Is `qa serve` still running?");
  });

  // Refuse oversized uploads before sending them; the server checks again.
  document.addEventListener("htmx:confirm", function (evt) {
    var form = evt.detail.elt;
    if (!form || form.id !== "upload-form") { return; }
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    var files = form.querySelector("[type=file]").files;
    var total = 0;
    for (var i = 0; i < files.length; i++) { total += files[i].size; }
    if (limit && total > limit) {
      evt.preventDefault();
      var status = document.getElementById("upload-status");
      var box = document.createElement("div");
      box.className = "error";
      box.setAttribute("role", "alert");
      box.textContent = "These files add up to " + (total / 1048576).toFixed(1) + " MB; the limit is " +
        (limit / 1048576).toFixed(1) + " MB.";
      status.replaceChildren(box);
    }
  });

  // On a document page, centre the cited span; the #hl fragment alone leaves it near the top edge.
  window.addEventListener("load", function () {
    var hl = document.getElementById("hl");
    if (hl) { window.requestAnimationFrame(function () { hl.scrollIntoView({ block: "center" }); }); }
  });
})();
