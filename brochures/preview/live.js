// The preview gallery reloads itself when a new build has finished, and says so while one runs.
(function () {
  var shown = document.body.getAttribute("data-build");
  var status = document.getElementById("build-status");
  var events = new EventSource("/events");
  events.addEventListener("building", function () {
    status.textContent = status.getAttribute("data-building");
  });
  events.addEventListener("built", function (event) {
    if (event.data !== shown) {
      events.close();
      window.location.reload();
    }
  });
})();
