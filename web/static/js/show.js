// The run-of-show on screen: countdowns and the clock keep moving between pushes (and
// while offline, from the last state); a sent message clears its form; the host
// screen's 收到 goes to this screen's own acknowledgement address.
(function () {
  "use strict";
  var offset = 0; // server clock minus this browser's clock, from the latest push

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(seconds) {
    var whole = Math.round(Math.abs(seconds));
    return (seconds < 0 ? "+" : "") + pad(Math.floor(whole / 60)) + ":" + pad(whole % 60);
  }

  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var endsAt = Number(el.dataset.endsAt);
      if (!endsAt) return; // on hold, or nothing running: the server's text stands
      var remaining = (endsAt - now) / 1000;
      el.textContent = format(remaining);
      var phase = remaining < 0 ? "red" : remaining <= Number(el.dataset.yellowS || 60) ? "yellow" : "green";
      var holder = el.closest(".prompter, .now-playing");
      if (holder) {
        holder.classList.remove("phase-green", "phase-yellow", "phase-red");
        holder.classList.add("phase-" + phase);
      }
    });
    // Playbook steps: time to their deadline, green → yellow (last warn-s) → red.
    document.querySelectorAll("[data-deadline-at]").forEach(function (el) {
      var remaining = (Number(el.dataset.deadlineAt) - now) / 1000;
      el.textContent = format(remaining);
      var phase = remaining < 0 ? "red" : remaining <= Number(el.dataset.warnS || 10) ? "yellow" : "green";
      var step = el.closest(".step");
      if (step) {
        step.classList.remove("phase-green", "phase-yellow", "phase-red");
        step.classList.add("phase-" + phase);
      }
    });
    document.querySelectorAll("[data-clock]").forEach(function (el) {
      try {
        el.textContent = new Date(now).toLocaleTimeString("zh-CN", { hour12: false, timeZone: el.dataset.tz });
      } catch (e) {
        el.textContent = new Date(now).toLocaleTimeString();
      }
    });
  }

  function readOffset() {
    var stamped = document.querySelector("[data-rendered-at]");
    var rendered = stamped ? Number(stamped.dataset.renderedAt) : 0;
    if (rendered) offset = rendered - Date.now();
  }

  document.addEventListener("DOMContentLoaded", function () {
    readOffset();
    tick();
    setInterval(tick, 250);
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.dataset && event.detail.target.dataset.renderedAt) readOffset();
    tick();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.successful && form && form.classList && form.classList.contains("message-host")) form.reset();
  });
  // The host screen acknowledges through its own address (its link, or the signed-in one).
  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    var holder = document.querySelector("[data-ack-base]");
    var base = holder && holder.dataset.ackBase;
    if (form && form.dataset && form.dataset.ack && base) {
      event.detail.path = base + "/" + form.dataset.ack + "/ack";
    }
  });
})();
