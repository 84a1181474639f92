// Sound for alerts: a tone when an alert is raised or re-notified, three quick tones
// when a red one escalates. Only while this browser has the sound on (the button of
// partials/_sound_control.html, remembered in localStorage; on unless turned off).
// Browsers keep sound blocked until the page is clicked (autoplay policy): while they
// do, a banner says so, and clicking it (or anywhere) lets the tones through.
(function () {
  "use strict";
  var STORE = "controlroom.sound";
  var heard = {};
  var audio = null;
  var startedAt = 0;

  function enabled() {
    try { return localStorage.getItem(STORE) !== "off"; } catch (e) { return true; }
  }

  function remember(on) {
    try { localStorage.setItem(STORE, on ? "on" : "off"); } catch (e) { /* private mode: this page only */ }
  }

  function context() {
    if (!audio) {
      try {
        audio = new (window.AudioContext || window.webkitAudioContext)();
      } catch (e) { return null; }
      startedAt = Date.now();
      audio.addEventListener("statechange", show);
      // A context starts suspended for a moment even when sound is allowed: look again
      // once it had the time to start.
      setTimeout(show, 600);
    }
    return audio;
  }

  // The control and the banner show the state: on/off, and blocked by the browser.
  function show() {
    var on = enabled();
    var state = audio ? audio.state : "none";
    var toggle = document.getElementById("sound-toggle");
    if (toggle) {
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.dataset.audio = state;
    }
    var banner = document.getElementById("sound-blocked");
    if (banner) {
      var settling = state === "suspended" && Date.now() - startedAt < 500;
      banner.hidden = !(on && audio && state !== "running" && !settling);
    }
  }

  // Within a click (a user gesture) the browser lets a suspended context run.
  function unblock() {
    var ctx = context();
    if (ctx && ctx.state !== "running" && ctx.state !== "closed") {
      ctx.resume().then(show, show);
    }
    show();
  }

  function tone(times, pitch) {
    if (!enabled()) return;
    var ctx = context();
    if (!ctx) return;
    if (ctx.state !== "running") { show(); return; } // blocked: the banner says so
    for (var i = 0; i < times; i++) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.frequency.value = pitch;
      osc.connect(gain); gain.connect(ctx.destination);
      var start = ctx.currentTime + i * 0.25;
      gain.gain.setValueAtTime(0.2, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 0.2);
      osc.start(start); osc.stop(start + 0.2);
    }
  }

  function listen(initial) {
    var rows = document.querySelectorAll("#alerts .alert.state-firing:not(.muted)");
    rows.forEach(function (row) {
      // An alert shown before it was recorded has no id yet: it is its rule and start.
      var key = row.dataset.rule + "@" + row.dataset.started;
      var stamp = row.dataset.notified + (row.classList.contains("escalated") ? "!" : "");
      if (heard[key] === stamp) return;
      heard[key] = stamp;
      if (initial) return;
      var red = row.dataset.level === "red";
      tone(row.classList.contains("escalated") ? 3 : 1, red ? 880 : 660);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    listen(true);
    // With the sound on, find out now whether the browser blocks it (the banner).
    if (enabled() && document.getElementById("sound-toggle")) context();
    show();
  });
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("#sound-toggle");
    if (toggle) {
      var on = !enabled();
      remember(on);
      if (on) {
        unblock();
        var ctx = context();
        // A short, quiet tone: the sound works.
        if (ctx) ctx.resume().then(function () { tone(1, 520); show(); }, show);
      }
      show();
      return;
    }
    // The banner, or any click on the page: a gesture that lets the sound through.
    if (enabled() && audio && audio.state !== "running") unblock();
  });
  document.addEventListener("keydown", function () {
    if (enabled() && audio && audio.state !== "running") unblock();
  });
  // Another tab of this browser switched the sound: follow it.
  window.addEventListener("storage", function (event) { if (event.key === STORE) show(); });
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "alerts") listen(false);
  });
})();
