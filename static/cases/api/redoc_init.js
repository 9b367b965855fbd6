// Redoc for /api/redoc/ (cases/templates/api/redoc.html). Redoc adds <style> elements as
// it renders; the Content-Security-Policy lets them in with the nonce this script was
// loaded with.
(function () {
  var script = document.currentScript;
  Redoc.init(
    script.dataset.schemaUrl,
    { nonce: script.nonce },
    document.getElementById("redoc-container")
  );
})();
