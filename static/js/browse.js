// Filter-as-you-type on a browse page that lists every value at once. Longer lists are
// paginated: there the same box filters on the server when submitted, with or without
// JavaScript.
(function () {
  "use strict";
  var input = document.querySelector("#browse-filter[data-filter-in-page]");
  var list = document.getElementById("browse-list");
  if (!input || !list) return;
  var status = document.querySelector(".browse-filter-status");
  var items = Array.prototype.slice.call(list.querySelectorAll("li"));
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
