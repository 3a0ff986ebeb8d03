// kefu web UI: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Ctrl+Enter / Cmd+Enter in a textarea submits its form.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t && t.tagName === "TEXTAREA" && t.form) {
      e.preventDefault();
      if (t.form.requestSubmit) { t.form.requestSubmit(); } else { t.form.submit(); }
    }
  });

  // Disable submit buttons after the first submit, so a double click posts once.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.method && form.method.toLowerCase() === "post") {
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  });

  // Warn before leaving a ticket with an unsent reply.
  var reply = document.getElementById("reply-body") || document.getElementById("portal-reply-body");
  if (reply) {
    var sending = false;
    reply.form.addEventListener("submit", function () { sending = true; });
    window.addEventListener("beforeunload", function (e) {
      if (!sending && reply.value.trim() !== "" && reply.value !== reply.defaultValue) {
        e.preventDefault();
        e.returnValue = "";
      }
    });
  }
})();
