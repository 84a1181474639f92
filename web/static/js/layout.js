// The control room's layout: tabs for the panels one look away (the chosen tab is
// remembered per browser), and question groups that stay as the person left them
// while pushes replace the panel around them.
(function () {
  "use strict";
  var STORE = "controlroom.tab.";
  var openGroups = {};  // data-group -> open, as the person last set it

  function choose(tabs, key) {
    var found = false;
    tabs.querySelectorAll("[data-tab]").forEach(function (tab) {
      var on = tab.dataset.tab === key;
      found = found || on;
      tab.setAttribute("aria-selected", String(on));
    });
    if (!found) return false;
    tabs.querySelectorAll("[data-tab-panel]").forEach(function (panel) {
      panel.hidden = panel.dataset.tabPanel !== key;
    });
    try { localStorage.setItem(STORE + tabs.dataset.tabs, key); } catch (e) { /* private mode */ }
    return true;
  }

  function restoreGroups(root) {
    root.querySelectorAll("details[data-group]").forEach(function (group) {
      var wanted = openGroups[group.dataset.group];
      if (wanted !== undefined && group.open !== wanted) group.open = wanted;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-tabs]").forEach(function (tabs) {
      var saved = null;
      try { saved = localStorage.getItem(STORE + tabs.dataset.tabs); } catch (e) { /* private mode */ }
      if (saved) choose(tabs, saved);
    });
    document.body.addEventListener("click", function (event) {
      var tab = event.target.closest("[data-tabs] [data-tab]");
      if (tab) choose(tab.closest("[data-tabs]"), tab.dataset.tab);
    });
    // What the person chose (a click on a group's summary, keyboard included), not
    // what a freshly pushed panel starts with.
    document.body.addEventListener("click", function (event) {
      var summary = event.target.closest("details[data-group] > summary");
      if (summary) openGroups[summary.parentElement.dataset.group] = !summary.parentElement.open;
    });
    document.body.addEventListener("htmx:oobAfterSwap", function (event) {
      var target = event.detail.target;
      // An outerHTML swap replaced the target: look for its successor by id.
      var swapped = target && target.id ? document.getElementById(target.id) : null;
      if (swapped && swapped.querySelector("details[data-group]")) restoreGroups(swapped);
    });
  });
})();
