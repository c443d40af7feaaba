/* Takt: behaviour shared by every page (no inline handlers anywhere). */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* A JSON request carrying the session's CSRF token; resolves to {status, ok, data}. */
  function request(url, options) {
    options = options || {};
    var headers = Object.assign({ "Accept": "application/json", "X-CSRF-Token": csrfToken() }, options.headers || {});
    return fetch(url, Object.assign({}, options, { headers: headers, credentials: "same-origin" }))
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { status: response.status, ok: response.ok, data: data };
        });
      });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });

  window.Takt = { csrfToken: csrfToken, request: request };
})();
