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

  // SLA countdowns: every 30 s, rewrite each `[data-due]` (RFC 3339) as "due in …" /
  // "overdue by …" with the page's words (`#sla-words`), formatted like web/sla.rs `span`.
  var words = document.getElementById("sla-words");
  if (words) {
    var w = words.dataset;
    var fill = function (s, vals) {
      return String(s).replace(/\{(\w+)\}/g, function (all, k) { return k in vals ? vals[k] : all; });
    };
    var span = function (secs) {
      var m = Math.floor(Math.max(0, secs) / 60);
      if (m < 1) { return w.lt; }
      if (m < 60) { return fill(w.m, { n: m }); }
      if (m < 1440) {
        return m % 60 === 0 ? fill(w.h, { h: m / 60 }) : fill(w.hm, { h: Math.floor(m / 60), m: m % 60 });
      }
      var d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
      return h === 0 ? fill(w.d, { d: d }) : fill(w.dh, { d: d, h: h });
    };
    var tick = function () {
      var now = Date.now();
      document.querySelectorAll("[data-due]").forEach(function (el) {
        var due = Date.parse(el.getAttribute("data-due"));
        if (isNaN(due)) { return; }
        var secs = Math.floor((due - now) / 1000);
        el.textContent = secs >= 0 ? fill(w.dueIn, { t: span(secs) }) : fill(w.overdue, { t: span(-secs) });
        var c = el.classList;
        if (secs < 0) {
          c.remove("sla-amber", "sla-neutral");
          c.add("sla-red");
        } else if (secs <= 3600 && !c.contains("sla-red")) {
          c.remove("sla-neutral");
          c.add("sla-amber");
        }
      });
    };
    setInterval(tick, 30000);
  }

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
