// The talk points scroll like a prompter, at the speed the controller set and paused
// when the controller paused them (data-scroll-* of the pushed prompter), keeping their
// place when a push replaces the panel; a new segment (or "from the top") starts at the
// top. The same on the host screen and on the control room's mirror of it, so the
// controller sees where the host is reading.
(function () {
  "use strict";
  // Lines a second per step of speed (1-10): 4 is about an unhurried reader.
  var LINES_PER_STEP = 0.07;
  var place = { key: null, epoch: null, top: 0, last: 0 };

  function talkPoints() {
    return document.querySelector("#prompter .talk-points[data-scroll-key]");
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
      // A hidden mirror (its tab closed) keeps reading along, so it opens where the host is.
      var visible = el.clientHeight > 0;
      var room = el.scrollHeight - el.clientHeight;
      var speed = Number(el.dataset.scrollSpeed) || 0;
      if (el.dataset.scrollPaused !== "true" && speed > 0 && (room > 0 || !visible)) {
        var line = parseFloat(getComputedStyle(el).lineHeight) || 40;
        place.top += speed * LINES_PER_STEP * line * dt;
      }
      place.top = Math.max(0, visible ? Math.min(place.top, Math.max(room, 0)) : place.top);
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

  document.addEventListener("DOMContentLoaded", function () {
    window.requestAnimationFrame(step);
  });
})();
