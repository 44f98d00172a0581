/* The page a meeting pass's QR code opens (/pass#<code>): the code is in the fragment, which never
   reaches the server's log or a Referer. Take it out of the address and post it. */
(function () {
  "use strict";
  var form = document.getElementById("pass-form");
  var code = window.location.hash.slice(1);
  if (!form || !code) { return; }
  window.history.replaceState(null, "", window.location.pathname);
  form.elements.code.value = decodeURIComponent(code);
  form.submit();
})();
