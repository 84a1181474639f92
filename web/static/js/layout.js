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
    // Silencing an alert: the static dialog, filled in from the alert's button.
    document.body.addEventListener("click", function (event) {
      var open = event.target.closest(".open-silence");
      var dialog = document.getElementById("silence-dialog");
      if (open && dialog) {
        var form = dialog.querySelector("form");
        form.elements.rule_key.value = open.dataset.ruleKey || "";
        form.elements.labels.value = open.dataset.labels || "";
        dialog.querySelector(".silence-alert-name").textContent = open.dataset.alertName || "";
        dialog.showModal();
      }
      if (event.target.closest("[data-action=close-dialog]")) event.target.closest("dialog").close();
    });
    document.body.addEventListener("htmx:afterRequest", function (event) {
      var dialog = event.target.closest && event.target.closest("#silence-dialog");
      if (dialog && event.detail.successful) {
        dialog.querySelector("form").reset();
        dialog.close();
      }
    });
    document.body.addEventListener("htmx:oobAfterSwap", function (event) {
      var target = event.detail.target;
      // An outerHTML swap replaced the target: look for its successor by id.
      var swapped = target && target.id ? document.getElementById(target.id) : null;
      if (swapped && swapped.querySelector("details[data-group]")) restoreGroups(swapped);
    });
  });
})();
