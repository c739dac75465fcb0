// Starts Swagger UI for /docs from this file rather than an inline script, which the CSP forbids.
window.addEventListener("load", function () {
  "use strict";
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
