// Quick replies: copy to the clipboard, and confirm a push to the host screen.
(function () {
  "use strict";

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain http on a LAN has no clipboard API: the old way still works there.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    return Promise.resolve();
  }

  function flag(button, ok) {
    button.classList.add(ok ? "done" : "failed");
    setTimeout(function () { button.classList.remove("done", "failed"); }, 1500);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    copy(button.dataset.copy).then(function () { flag(button, true); }, function () { flag(button, false); });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.classList && form.classList.contains("push-reply")) {
      flag(form.querySelector("button"), event.detail.successful);
    }
  });
})();
