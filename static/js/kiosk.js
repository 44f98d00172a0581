// The kiosk goes back to its home screen after a while without a touch; leaving the page also
// drops any half-typed message. Settings come from data-* attributes on <body> (no inline script).
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds"), 10) || 90;
  var home = body.getAttribute("data-home");
  var atHome = body.hasAttribute("data-is-home");
  var timer = null;
  function goHome() {
    document.querySelectorAll("form").forEach(function (form) { form.reset(); });
    if (atHome) {
      window.scrollTo(0, 0);
      restart();
    } else if (home) {
      window.location.replace(home);
    }
  }
  function restart() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(goHome, idle * 1000);
  }
  ["pointerdown", "keydown", "input", "touchstart", "scroll"].forEach(function (name) {
    document.addEventListener(name, restart, { passive: true });
  });
  restart();
})();
