// Shows whether the live connection is up: the numbers on screen are only as fresh as it.
(function () {
  function setState(state) {
    var badge = document.getElementById("connection");
    if (badge) badge.dataset.state = state;
  }
  document.body.addEventListener("htmx:wsOpen", function () { setState("online"); });
  document.body.addEventListener("htmx:wsClose", function () { setState("offline"); });
  document.body.addEventListener("htmx:wsError", function () { setState("offline"); });
})();

// A screen whose server restarted is back within seconds: the ws extension's default
// ("full-jitter") waits up to 64 s after a few failed tries, too long for a host tablet
// during a show. Here: 0.25–0.5 s, doubling to at most 2.5–5 s.
if (window.htmx) {
  htmx.config.wsReconnectDelay = function (retryCount) {
    var ceiling = Math.min(5000, 500 * Math.pow(2, retryCount));
    return ceiling / 2 + Math.random() * ceiling / 2;
  };
}
