// The live comment feed. New comments arrive in the hidden #comment-inbox (an htmx
// out-of-band swap); from there they go on top of the feed, unless the feed is paused
// (pointer over it, or the button), in which case they wait and are counted.
(function () {
  "use strict";
  var KEEP = 300;
  var hovering = false;
  var pinned = false;
  var filter = "";  // "" all, "*" any moderation hit, else a category

  function matches(item) {
    if (!filter) return true;
    var categories = (item.dataset.categories || "").split(" ").filter(Boolean);
    return filter === "*" ? categories.length > 0 : categories.indexOf(filter) >= 0;
  }

  function applyFilter(items) {
    Array.prototype.forEach.call(items, function (item) {
      item.classList.toggle("filtered-out", !matches(item));
    });
  }

  function paused() { return hovering || pinned; }

  function topSeq(feed) {
    var first = feed.querySelector(".comment");
    return first ? Number(first.dataset.seq) : 0;
  }

  function flush() {
    var inbox = document.getElementById("comment-inbox");
    var feed = document.getElementById("comment-feed");
    if (!inbox || !feed) return;
    var waiting = inbox.querySelectorAll(".comment").length;
    var section = document.getElementById("comments");
    section.querySelector(".feed-paused").hidden = !paused();
    var counter = section.querySelector(".feed-waiting");
    // Only when it changes: rewriting text is itself a mutation the observer would see.
    if (counter.textContent !== String(waiting)) counter.textContent = String(waiting);
    section.querySelector(".pause-feed").setAttribute("aria-pressed", String(pinned));
    section.classList.toggle("is-paused", paused());
    if (paused()) {
      // A long pause in a hot room must not pile up without end: keep the newest KEEP.
      while (inbox.children.length > KEEP) inbox.removeChild(inbox.lastChild);
      return;
    }
    if (waiting === 0) return;
    var newest = topSeq(feed);
    var items = Array.prototype.slice.call(inbox.querySelectorAll(".comment")).reverse();  // oldest first
    var empty = feed.querySelector(".empty");
    if (empty) empty.remove();
    // Numbering that went backwards means the room's state was reset: follow it.
    if (items.length && Number(items[items.length - 1].dataset.seq) < newest - 2 * KEEP) newest = 0;
    items.forEach(function (item) {
      if (Number(item.dataset.seq) > newest) {  // a reconnect can deliver a comment twice
        applyFilter([item]);
        feed.insertBefore(item, feed.firstChild);
        newest = Number(item.dataset.seq);
      } else {
        item.remove();
      }
    });
    while (feed.children.length > KEEP) feed.removeChild(feed.lastChild);
  }

  document.addEventListener("DOMContentLoaded", function () {
    new MutationObserver(flush).observe(document.body, { childList: true, subtree: true });
    document.body.addEventListener("mouseover", function (event) {
      var inside = !!event.target.closest("#comment-feed");
      if (inside !== hovering) { hovering = inside; flush(); }
    });
    // Leaving the window straight from the feed ends the hover pause too.
    document.documentElement.addEventListener("mouseleave", function () {
      if (hovering) { hovering = false; flush(); }
    });
    document.body.addEventListener("click", function (event) {
      if (event.target.closest("[data-action=pause-feed]")) { pinned = !pinned; flush(); }
      // A comment picked for a compliance correction (SOP 15): its text, as typed by the
      // viewer, goes into the correction box for the controller to check and send.
      var picked = event.target.closest("#comment-feed .comment .text");
      var line = document.querySelector(".compliance-flag input[name=line]");
      if (picked && line && !window.getSelection().toString()) {
        line.value = picked.textContent.trim().slice(0, Number(line.maxLength) || 300);
        line.focus();
      }
      var choice = event.target.closest(".feed-filter [data-filter]");
      if (choice) {
        filter = choice.dataset.filter;
        choice.parentElement.querySelectorAll("[data-filter]").forEach(function (button) {
          button.setAttribute("aria-pressed", String(button === choice));
        });
        applyFilter(document.querySelectorAll("#comment-feed .comment"));
      }
    });
  });
})();
