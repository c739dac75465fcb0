// docqa chat: small enhancements on top of htmx. The page works without this file or without JS.
// The conversation is kept in this browser only (localStorage), as data: after a reload the server
// renders it again from that data (POST /turns), with the same template and escaping as new answers.
(function () {
  "use strict";

  var STORE = "docqa.conversation.v1";
  var PICKS = "docqa.within.v1";
  var MAX_TURNS = 30; // web/turns.py MAX_STORED_TURNS

  document.documentElement.classList.add("js");

  function ask() { return document.getElementById("ask-form"); }
  function thread() { return document.getElementById("thread"); }
  function questionBox() { return document.getElementById("question"); }

  function load(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function save(key, value) {
    try {
      if (value === null) { window.localStorage.removeItem(key); } else { window.localStorage.setItem(key, JSON.stringify(value)); }
    } catch (e) { /* storage full or off: the chat still works, it just won't survive a reload */ }
  }

  // ------------------------------------------------------------ the conversation, kept as data

  function storeConversation() {
    var turns = [];
    thread().querySelectorAll(".turn[data-turn]").forEach(function (el) {
      try { turns.push(JSON.parse(el.getAttribute("data-turn"))); } catch (e) { /* skip a broken one */ }
    });
    save(STORE, turns.length ? { turns: turns.slice(-MAX_TURNS) } : null);
  }

  function restoreConversation() {
    var stored = load(STORE);
    if (!stored || !Array.isArray(stored.turns) || !stored.turns.length) { return; }
    if (thread().querySelector(".turn")) { return; } // a page posted without JS already shows its turns
    fetch("/turns", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/html" },
      body: JSON.stringify({ turns: stored.turns.slice(-MAX_TURNS) }),
    }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.text();
    }).then(function (html) {
      // Markup the server just rendered (and escaped) from the kept data; htmx swaps its answers the same way.
      thread().insertAdjacentHTML("beforeend", html);
      var last = thread().querySelector(".turn:last-of-type");
      if (last) { last.scrollIntoView({ block: "end" }); }
      announce("The previous conversation was restored: " + thread().querySelectorAll(".turn").length + " questions.");
    }).catch(function () {
      save(STORE, null); // kept in an older shape, or the server refused it: start afresh
    });
  }

  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("#new-conversation");
    if (link) { save(STORE, null); } // then the link loads an empty chat
  });

  // ------------------------------------------------------------ the live region: the new answer only

  function announce(text) {
    var region = document.getElementById("announce");
    if (!region) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function describe(turn) {
    var answer = turn.querySelector(".answer");
    var text = answer ? answer.textContent.trim() : "";
    var sources = turn.querySelectorAll(".sources a.citation").length;
    if (!answer || answer.classList.contains("abstain")) { return "Answer: " + (text || "The documents don't say."); }
    return "Answer: " + text + ". " + sources + (sources === 1 ? " source." : " sources.");
  }

  // ------------------------------------------------------------ the question box

  document.addEventListener("keydown", function (evt) {
    if (evt.target !== questionBox() || evt.key !== "Enter") { return; }
    if (evt.shiftKey || evt.isComposing || evt.keyCode === 229) { return; } // a new line, or an IME choosing
    evt.preventDefault();
    var form = ask();
    if (form.querySelector("button[type=submit]").disabled) { return; } // an answer is on its way
    form.requestSubmit();
  });

  // Show which question is being worked on next to the loading indicator.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var form = evt.detail.elt;
    if (form === ask()) {
      var q = form.querySelector("[name=question]").value.trim();
      var slot = document.getElementById("loading-question");
      if (slot) { slot.textContent = q ? " for “" + q + "”" : ""; }
    }
  });

  // Clear the box for the next question; focus stays there for a follow-up. A refusal (4xx, swapped
  // into the thread as a message) keeps the question, to fix or ask again.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (form !== ask()) { return; }
    var input = questionBox();
    if (evt.detail.successful && evt.detail.xhr && evt.detail.xhr.status < 300) { input.value = ""; }
    input.focus();
  });

  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.id === "thread") {
      var turns = target.querySelectorAll(".turn, .error");
      var last = turns[turns.length - 1];
      var box = ask().getBoundingClientRect();
      // Scroll only when the new answer is not already in full view above the question box.
      if (last) {
        var r = last.getBoundingClientRect();
        if (r.top < 0 || r.bottom > box.top) { last.scrollIntoView({ block: "start", behavior: "smooth" }); }
        if (last.classList.contains("turn")) { announce(describe(last)); }
      }
      storeConversation();
    }
    if (target && target.id === "upload-status") {
      var upload = document.getElementById("upload-form");
      if (upload && !target.querySelector(".error")) { upload.querySelector("[type=file]").value = ""; }
    }
  });

  // ------------------------------------------------------------ ticked documents

  function picks() { return Array.prototype.slice.call(document.querySelectorAll("#doc-list input[name=doc_ids]")); }

  function showPicks() {
    var ticked = picks().filter(function (box) { return box.checked; });
    var line = document.getElementById("within");
    if (line) {
      line.hidden = !ticked.length;
      var names = ticked.map(function (box) {
        var label = document.querySelector("label[for='" + box.id + "']");
        return label ? label.textContent.trim() : box.value;
      }).join(", ");
      line.textContent = ticked.length ? "Asking within " + (ticked.length === 1 ? "1 document" : ticked.length + " documents") + ": " + names : "";
      line.title = line.textContent;
    }
    save(PICKS, ticked.length ? ticked.map(function (box) { return box.value; }) : null);
  }

  function applyPicks(ids) {
    var wanted = {};
    (ids || []).forEach(function (id) { wanted[id] = true; });
    picks().forEach(function (box) { if (wanted[box.value]) { box.checked = true; } });
    showPicks();
  }

  document.addEventListener("change", function (evt) {
    if (evt.target && evt.target.name === "doc_ids") { showPicks(); }
  });
  // The list is swapped in again after an upload (and after asking within a deleted document):
  // keep what was ticked and is still there.
  var ticksBeforeSwap = null;
  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "doc-list") {
      ticksBeforeSwap = picks().filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
    }
  });
  document.addEventListener("htmx:oobAfterSwap", function (evt) {
    if (!evt.detail.target || evt.detail.target.id !== "doc-list" || !ticksBeforeSwap) { return; }
    // The server ticks what it knows is still meant (after a deleted document); otherwise keep the old ticks.
    var server = picks().filter(function (box) { return box.checked; });
    if (!server.length) { applyPicks(ticksBeforeSwap); } else { showPicks(); }
    ticksBeforeSwap = null;
  });

  // ------------------------------------------------------------ export as Markdown

  function slug(text) {
    var s = text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);
    return s || "answer";
  }

  function download(name, text) {
    var url = URL.createObjectURL(new Blob([text], { type: "text/markdown;charset=utf-8" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function conversationMarkdown() {
    var parts = [];
    thread().querySelectorAll(".turn[data-markdown]").forEach(function (el) { parts.push(el.getAttribute("data-markdown")); });
    return "# docqa conversation\n\n" + parts.join("\n---\n\n");
  }

  function flash(button, text) {
    var was = button.textContent;
    button.textContent = text;
    window.setTimeout(function () { button.textContent = was; }, 1800);
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("button[data-action]");
    if (!button) { return; }
    var action = button.getAttribute("data-action");
    var turn = button.closest(".turn");
    if (action === "export-turn" && turn) {
      var question = turn.querySelector(".question");
      var q = question ? question.lastChild.textContent : "";
      download("docqa-" + slug(q) + ".md", turn.getAttribute("data-markdown"));
    } else if (action === "copy-turn" && turn) {
      if (navigator.clipboard) {
        navigator.clipboard.writeText(turn.getAttribute("data-markdown")).then(function () { flash(button, "Copied"); },
          function () { flash(button, "Could not copy"); });
      }
    } else if (action === "export-all") {
      download("docqa-conversation-" + new Date().toISOString().slice(0, 10) + ".md", conversationMarkdown());
    }
  });

  // ------------------------------------------------------------ errors, uploads, document page

  // Server errors (5xx) and lost connections are not swapped in by htmx: say so where the user looks.
  function report(evt, text) {
    var form = evt.detail.elt;
    var where = form === ask() ? thread() : document.getElementById("upload-status");
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

  document.addEventListener("DOMContentLoaded", function () {
    if (ask()) {
      applyPicks(load(PICKS));
      restoreConversation();
    }
  });

  // On a document page, centre the cited span; the #hl fragment alone leaves it near the top edge.
  window.addEventListener("load", function () {
    var hl = document.getElementById("hl");
    if (hl) { window.requestAnimationFrame(function () { hl.scrollIntoView({ block: "center" }); }); }
  });
})();
