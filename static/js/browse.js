// Filter-as-you-type for the browse pages. Without JavaScript the whole list shows.
(function () {
  "use strict";
  var box = document.querySelector(".browse-filter");
  var list = document.getElementById("browse-list");
  if (!box || !list) return;
  var input = box.querySelector("input");
  var status = box.querySelector(".browse-filter-status");
  var items = Array.prototype.slice.call(list.querySelectorAll("li"));
  box.hidden = false;
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  var labels = items.map(function (li) { return fold(li.querySelector(".label").textContent); });
  input.addEventListener("input", function () {
    var needle = fold(input.value.trim());
    var shown = 0;
    items.forEach(function (li, i) {
      var match = labels[i].indexOf(needle) !== -1;
      li.hidden = !match;
      if (match) shown += 1;
    });
    // The page's language gives the wording: "{shown} of {total} shown".
    var wording = status.getAttribute("data-wording") || "{shown} of {total} shown";
    status.textContent = needle
      ? wording.replace("{shown}", shown).replace("{total}", items.length)
      : "";
  });
})();
