// Small enhancements of the case list; every control also works without JavaScript.
(function () {
  "use strict";
  // Changing the order applies it at once.
  var ordering = document.getElementById("id_ordering");
  if (ordering && ordering.form) {
    ordering.addEventListener("change", function () { ordering.form.submit(); });
  }
})();
