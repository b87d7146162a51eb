// Starts Swagger UI on /api/docs. Its settings come from the page's data-* attributes, so the page
// needs no inline script and its Content-Security-Policy can forbid them.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  var config = JSON.parse(root.dataset.config || "{}");
  config.url = root.dataset.specUrl;
  config.domNode = root;
  window.ui = SwaggerUIBundle(config);
});
