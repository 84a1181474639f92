// Reordering the script by drag and drop: drop a segment on another to put it there; the
// new order is posted and the page reloads with the server's version. Segments that
// already ran in a live show are not draggable.
(function () {
  "use strict";
  var list = document.querySelector(".script-segments");
  if (!list) return;
  var dragged = null;

  list.addEventListener("dragstart", function (event) {
    dragged = event.target.closest("li[draggable=true]");
    if (dragged) event.dataTransfer.effectAllowed = "move";
  });
  list.addEventListener("dragover", function (event) {
    var over = event.target.closest("li[draggable=true]");
    if (dragged && over && over !== dragged) event.preventDefault();
  });
  list.addEventListener("drop", function (event) {
    var over = event.target.closest("li[draggable=true]");
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    var items = Array.prototype.slice.call(list.children);
    var from = items.indexOf(dragged), to = items.indexOf(over);
    list.insertBefore(dragged, from < to ? over.nextSibling : over);
    var order = Array.prototype.map.call(list.children, function (li) { return li.dataset.segment; }).join(",");
    htmx.ajax("POST", list.dataset.orderUrl, { values: { order: order }, swap: "none" });
  });
})();
