// A server error or a lost connection during an HTMX request is not swapped into the page (a 4xx
// refusal is: see HTMX_CONFIG in blueprints/core/web.py). Say so in the page's message area, in the
// words the template put on <body data-htmx-error / data-htmx-offline>: no inline script, no text here.
(function () {
  "use strict";
  function show(text) {
    var box = document.getElementById("flashes");
    if (!box || !text) { return; }
    var note = document.createElement("div");
    note.className = "flash flash-error";
    note.setAttribute("role", "alert");
    note.textContent = text;
    box.appendChild(note);
  }
  document.addEventListener("htmx:responseError", function () {
    show(document.body.getAttribute("data-htmx-error"));
  });
  document.addEventListener("htmx:sendError", function () {
    show(document.body.getAttribute("data-htmx-offline"));
  });
})();
