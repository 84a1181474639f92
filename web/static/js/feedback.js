// Every htmx action answers: a refusal (4xx/5xx, a network error) shows the server's
// reason next to the button that asked, a success shows a short "done" there.
// The note lives in <body>, placed under the button: the live panels are re-rendered by
// pushes (several a second), which would take a note inside them away at once.
// Texts come translated from #ui-strings (partials/_feedback_strings.html); no inline
// style or script (CSP): positions are set through the CSSOM, the look is in feedback.css.
(function () {
  "use strict";
  var REFUSED_MS = 6000;
  var DONE_MS = 2500;
  var MAX_REASON = 300;
  // English fallbacks, for a page rendered without the strings partial.
  var FALLBACK = {
    done: "Done",
    refused: "Not done: {reason}",
    network: "Network error: the request did not reach the server. Check the connection and try again.",
    timeout: "No answer in time: it may not have been done. Look and try again.",
    signedOut: "Signed out: reload the page and sign in again.",
    status: "The server answered {status}.",
    dismiss: "Click to close",
  };

  function text(name) {
    var holder = document.getElementById("ui-strings");
    return (holder && holder.dataset[name]) || FALLBACK[name] || "";
  }

  // --- which element asked, and where it is --------------------------------------------

  function anchorOf(detail) {
    var trigger = detail.requestConfig && detail.requestConfig.triggeringEvent;
    var submitter = trigger && trigger.submitter;
    if (submitter) return submitter;
    var elt = detail.elt;
    if (elt && elt.tagName === "FORM") return elt.querySelector("button[type=submit], button:not([type]), input[type=submit]") || elt;
    return elt;
  }

  function box(el) {
    if (!el || !el.isConnected) return null;
    var rect = el.getBoundingClientRect();
    if (!rect.width && !rect.height) return null; // hidden
    return { left: rect.left + window.scrollX, top: rect.top + window.scrollY, bottom: rect.bottom + window.scrollY };
  }

  // The button may be gone when the answer comes (a push re-rendered its panel): find its
  // successor (same request, same action), or use where it was when it was clicked.
  function successor(anchor, detail) {
    var path = detail.requestConfig && detail.requestConfig.path;
    if (!path || !window.CSS || !CSS.escape) return null;
    var forms = document.querySelectorAll("[hx-post=\"" + CSS.escape(path) + "\"]");
    var action = anchor && anchor.dataset ? anchor.dataset.action : null;
    for (var i = 0; i < forms.length; i++) {
      var candidate = action ? forms[i].querySelector("[data-action=\"" + CSS.escape(action) + "\"]") : forms[i];
      if (candidate && box(candidate)) return candidate;
    }
    return null;
  }

  // --- the notes ---------------------------------------------------------------------------

  var notes = []; // [{key, el, timer}]

  function forget(entry) {
    clearTimeout(entry.timer);
    entry.el.remove();
    notes = notes.filter(function (n) { return n !== entry; });
  }

  function show(kind, message, anchor, where, key) {
    notes.filter(function (n) { return n.key === key; }).forEach(forget);
    var el = document.createElement("div");
    el.className = "feedback-note " + kind;
    el.setAttribute("role", kind === "refused" ? "alert" : "status");
    el.title = text("dismiss");
    el.textContent = message;
    document.body.appendChild(el);
    if (where) {
      el.classList.add("anchored");
      var width = el.offsetWidth;
      var right = window.scrollX + document.documentElement.clientWidth - 8;
      el.style.left = Math.max(window.scrollX + 8, Math.min(where.left, right - width)) + "px";
      el.style.top = (where.bottom + 6) + "px";
    } else {
      el.classList.add("floating"); // nowhere to point at: top of the screen
    }
    var entry = { key: key, el: el, timer: 0 };
    entry.timer = setTimeout(function () { forget(entry); }, kind === "refused" ? REFUSED_MS : DONE_MS);
    el.addEventListener("click", function () { forget(entry); });
    notes.push(entry);
    return el;
  }

  function noteFor(kind, message, detail) {
    var anchor = anchorOf(detail);
    var xhr = detail.xhr;
    var where = box(anchor) || box(successor(anchor, detail)) || (xhr && xhr.feedbackBox) || null;
    var key = (detail.requestConfig && detail.requestConfig.path || "") + "#" + (anchor && anchor.dataset ? anchor.dataset.action || "" : "");
    return show(kind, message, anchor, where, key);
  }

  // --- the reason a refusal gives ------------------------------------------------------------

  function clip(value) {
    value = String(value).replace(/\s+/g, " ").trim();
    return value.length > MAX_REASON ? value.slice(0, MAX_REASON - 1) + "…" : value;
  }

  function reasonOf(xhr) {
    if (!xhr) return "";
    if (xhr.status === 401) return text("signedOut");
    var body = xhr.responseText || "";
    var type = (xhr.getResponseHeader("content-type") || "").toLowerCase();
    if (type.indexOf("json") >= 0) {
      try {
        var detail = JSON.parse(body).detail;
        if (typeof detail === "string") return clip(detail);
        if (Array.isArray(detail)) {
          return clip(detail.map(function (d) { return d && d.msg ? d.msg : JSON.stringify(d); }).join("; "));
        }
        if (detail != null) return clip(JSON.stringify(detail));
      } catch (e) { /* not JSON after all: the text below */ }
    }
    if (type.indexOf("html") >= 0) {
      // A page (403 "not allowed"): its heading and its message, without the navigation.
      var doc = new DOMParser().parseFromString(body, "text/html");
      var main = doc.querySelector("main") || doc.body;
      if (main) {
        var heading = main.querySelector("h1");
        var message = main.querySelector(".muted") || main.querySelector("p");
        var parts = [heading && heading.textContent, message && message.textContent].filter(Boolean);
        if (parts.length) return clip(parts.join(": "));
      }
    }
    if (body && type.indexOf("html") < 0) return clip(body);
    return text("status").replace("{status}", xhr.status + (xhr.statusText ? " " + xhr.statusText : ""));
  }

  function refused(detail, reason) {
    noteFor("refused", text("refused").replace("{reason}", reason), detail);
  }

  // --- htmx's events -------------------------------------------------------------------------

  function quiet(detail) {
    return detail.elt && detail.elt.closest && detail.elt.closest("[data-feedback=\"quiet\"]");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    // Where the button is now: the answer may come after a push replaced it.
    if (event.detail.xhr) event.detail.xhr.feedbackBox = box(anchorOf(event.detail));
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (!quiet(event.detail)) refused(event.detail, reasonOf(event.detail.xhr));
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (!quiet(event.detail)) refused(event.detail, text("network"));
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (!quiet(event.detail)) refused(event.detail, text("timeout"));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    var xhr = detail.xhr;
    var config = detail.requestConfig || {};
    if (!xhr || quiet(detail) || !config.verb || config.verb.toLowerCase() === "get") return;
    var type = (xhr.getResponseHeader("content-type") || "").toLowerCase();
    if (xhr.status === 422 && type.indexOf("json") >= 0) {
      // 422 is swapped like a success (a form that shows its errors); a JSON one has
      // nowhere to go: say it here.
      refused(detail, reasonOf(xhr));
      return;
    }
    if (xhr.status < 200 || xhr.status > 299) return;
    // What the person did (a click, a submit), not a form checking itself as one types.
    var trigger = config.triggeringEvent;
    if (trigger && trigger.type !== "submit" && trigger.type !== "click") return;
    // A form that writes something new (a note, an item) is emptied for the next one.
    if (detail.elt && detail.elt.tagName === "FORM" && detail.elt.hasAttribute("data-reset-on-success")) detail.elt.reset();
    noteFor("done", text("done"), detail);
  });
})();
