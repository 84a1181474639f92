// The host screen: the talk points scroll like a prompter, at the speed the controller
// set and paused when the controller paused them (data-scroll-* of the pushed prompter),
// keeping their place when a push replaces the panel; a new segment (or "from the top")
// starts at the top. The mirror switch flips the screen for teleprompter glass and is
// remembered on this device. The page title follows the pushed show title.
(function () {
  "use strict";
  var MIRROR_KEY = "controlroom.host.mirror";
  // Lines a second per step of speed (1-10): 4 is about an unhurried reader.
  var LINES_PER_STEP = 0.07;
  var place = { key: null, epoch: null, top: 0, last: 0 };

  function talkPoints() {
    return document.querySelector(".host-screen #prompter .talk-points[data-scroll-key]");
  }

  function step(now) {
    var el = talkPoints();
    var dt = place.last ? Math.min((now - place.last) / 1000, 0.25) : 0;
    place.last = now;
    if (el) {
      var key = el.dataset.scrollKey, epoch = el.dataset.scrollEpoch;
      if (key !== place.key || (place.epoch !== null && epoch !== place.epoch)) place.top = 0;
      place.key = key;
      place.epoch = epoch;
      var room = el.scrollHeight - el.clientHeight;
      var speed = Number(el.dataset.scrollSpeed) || 0;
      if (el.dataset.scrollPaused !== "true" && speed > 0 && room > 0) {
        var line = parseFloat(getComputedStyle(el).lineHeight) || 40;
        place.top += speed * LINES_PER_STEP * line * dt;
      }
      place.top = Math.max(0, Math.min(place.top, Math.max(room, 0)));
      // A push replaced the element (scrollTop 0) or time moved on: put it where it was.
      if (Math.abs(el.scrollTop - place.top) >= 1) el.scrollTop = place.top;
      el.dataset.scrollTop = String(Math.round(place.top));
    }
    window.requestAnimationFrame(step);
  }

  // The host may drag the text by hand (while paused, say): the prompter goes on from there.
  document.addEventListener("scroll", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches(".talk-points[data-scroll-key]") && Math.abs(el.scrollTop - place.top) > 2) {
      place.top = el.scrollTop;
    }
  }, true);

  function applyMirror(on) {
    document.body.classList.toggle("is-mirrored", on);
    document.querySelectorAll("[data-mirror-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function mirrored() {
    try { return window.localStorage.getItem(MIRROR_KEY) === "on"; } catch (e) { return false; }
  }

  function followTitle() {
    var title = document.querySelector("#prompter .show-title");
    if (title && title.textContent.trim()) document.title = title.textContent.trim() + " · controlroom";
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.body.classList.contains("host-screen")) return;
    applyMirror(mirrored());
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-mirror-toggle]");
      if (!button) return;
      var on = !document.body.classList.contains("is-mirrored");
      try { window.localStorage.setItem(MIRROR_KEY, on ? "on" : "off"); } catch (e) { /* private mode: this tab only */ }
      applyMirror(on);
    });
    document.addEventListener("htmx:oobAfterSwap", followTitle);
    window.requestAnimationFrame(step);
  });
})();
