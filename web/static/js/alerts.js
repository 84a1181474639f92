// Sound for alerts: a tone when an alert is raised or re-notified, three quick tones
// when a red one escalates. Browsers allow sound only after the page was clicked once.
(function () {
  var heard = {};
  var audio = null;

  function tone(times, pitch) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    } catch (e) { return; }
    for (var i = 0; i < times; i++) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = pitch;
      osc.connect(gain); gain.connect(audio.destination);
      var start = audio.currentTime + i * 0.25;
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

  document.addEventListener("DOMContentLoaded", function () { listen(true); });
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "alerts") listen(false);
  });
})();
