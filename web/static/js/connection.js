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
