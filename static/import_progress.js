// The import's progress page: asks how far the run has come every second, says so, and
// shows the report (the same page, reloaded) once the run is no longer working. Texts come
// from the page (data-text-*), so they are in the reader's language.
(function () {
  "use strict";
  var state = document.getElementById("import-state");
  if (!state || !state.dataset.progressUrl) { return; }
  function say(run) {
    var template = run.state === "queued" ? state.dataset.textQueued
      : run.stage === "write" ? state.dataset.textWrite : state.dataset.textRead;
    state.textContent = template.replace("%(source)s", run.source || "").replace("%(rows)s", String(run.rows || 0));
    state.dataset.state = run.state;
  }
  function poll() {
    fetch(state.dataset.progressUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (run && (run.state === "queued" || run.state === "running")) {
          say(run);
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });  // the server restarting: ask again
  }
  window.setTimeout(poll, 1000);
}());
