/* global window */
// Swagger UI over the hub's own document; "Authorize" takes an API key (kept in this tab only).
window.addEventListener('load', function () {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // no call to validator.swagger.io: the page works offline and tells no one what it shows
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
