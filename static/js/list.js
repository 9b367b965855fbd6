// Small enhancements of the case list; every control also works without JavaScript.
(function () {
  "use strict";
  // Changing the order applies it at once.
  var ordering = document.getElementById("id_ordering");
  if (ordering && ordering.form) {
    ordering.addEventListener("change", function () { ordering.form.requestSubmit(); });
  }
  // Empty fields stay out of the URL (without JavaScript the server redirects to drop them).
  Array.prototype.forEach.call(document.querySelectorAll("form[method=get]"), function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.name && !field.disabled && typeof field.value === "string" && !field.value.trim()) {
          field.disabled = true;
        }
      });
      // Enabled again for the back button's restored page.
      window.setTimeout(function () {
        Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
      }, 0);
    });
  });
})();
