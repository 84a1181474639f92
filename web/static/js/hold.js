// Pushed panels are morphed into place (htmx's idiomorph extension), so buttons, open
// groups and unchanged text stay the same elements. Beyond that, a live panel waits while
// a person works in it: while text inside it is selected (to copy a number or a viewer's
// question) or one of its fields has the focus, a push for the panel is held, and only
// the newest one is kept; it lands as soon as the selection is gone or the focus leaves.
// The held panel says so, so nobody reads frozen numbers as live ones.
(function () {
  "use strict";
  var held = {};  // panel id -> the newest pushed HTML for it

  function selectionInside(panel) {
    var selection = document.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return false;
    var range = selection.getRangeAt(0);
    return panel.contains(range.commonAncestorContainer) || range.intersectsNode(panel);
  }

  function fieldInside(panel) {
    var active = document.activeElement;
    return !!active && active !== document.body && panel.contains(active) && active.matches("input, select, textarea");
  }

  function busy(panel) { return selectionInside(panel) || fieldInside(panel); }

  function note() {
    var strings = document.getElementById("ui-strings");
    return (strings && strings.dataset.held) || "Updates wait while you select text here";
  }

  function release() {
    Object.keys(held).forEach(function (id) {
      var panel = document.getElementById(id);
      if (!panel) { delete held[id]; return; }
      if (busy(panel)) return;
      var html = held[id];
      delete held[id];
      // The same morph a push does; htmx then wires up the forms the panel now holds.
      Idiomorph.morph(panel, html, { morphStyle: "outerHTML" });
      var successor = document.getElementById(id);
      if (!successor) return;
      htmx.process(successor);
      // What listens for pushes (countdowns, question groups, charts) sees this one too.
      htmx.trigger(successor, "htmx:oobAfterSwap", { target: successor });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // A morph never rewrites what is being typed into a field that has the focus.
    if (window.Idiomorph) Idiomorph.defaults.ignoreActiveValue = true;
    document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
      var panel = event.detail.target;
      var fragment = event.detail.fragment;
      var incoming = fragment && (fragment.firstElementChild || fragment);
      // Only a push that replaces the panel by id; additions (new comments) never disturb.
      if (!panel || !panel.id || !incoming || incoming.id !== panel.id || !busy(panel)) return;
      held[panel.id] = incoming.outerHTML;
      event.detail.shouldSwap = false;
      if (!panel.hasAttribute("data-held")) panel.setAttribute("data-held", note());
    });
    document.addEventListener("selectionchange", function () {
      if (Object.keys(held).length) release();
    });
    document.addEventListener("focusout", function () {
      // After the focus has moved: the new active element decides.
      if (Object.keys(held).length) window.setTimeout(release, 0);
    });
  });
})();
