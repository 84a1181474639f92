// The host screen: the mirror switch flips the screen for teleprompter glass and is
// remembered on this device; the page title follows the pushed show title. The talk
// points scroll by web/static/js/prompter.js.
(function () {
  "use strict";
  var MIRROR_KEY = "controlroom.host.mirror";

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
  });
})();
