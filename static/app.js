// Cloud Monitoring Dashboard: the little the browser must do itself.
//
// 1. Relative times. The server writes absolute times (<time datetime>) so
//    that a page's bytes change only when its data does; this turns every
//    <time data-ago> into words ("12 s ago") and keeps them ticking.
// 2. Contact. The grid refreshes itself every few seconds; this says when it
//    last did, and warns when the server has not answered for a while, so a
//    dead wall never passes for a healthy one.
(function () {
  "use strict";

  function ago(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + " s ago";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min ago";
    var h = Math.floor(m / 60);
    if (h < 48) return h + " h ago";
    return Math.floor(h / 24) + " days ago";
  }

  function span(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min " + (s % 60) + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function updateTimes(root) {
    var now = Date.now();
    var els = (root || document).querySelectorAll("time[data-ago]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var t = Date.parse(el.getAttribute("datetime"));
      if (isNaN(t)) continue;
      if (!el.title) el.title = el.textContent;
      el.textContent = ago(now - t);
    }
  }

  var lastContact = Date.now();

  function refreshMs() {
    // The part that refreshes (the grid, or a server's alarms) says how often.
    var el = document.querySelector("[data-refresh-ms]");
    var v = el ? parseInt(el.getAttribute("data-refresh-ms"), 10) : NaN;
    return isNaN(v) || v <= 0 ? 20000 : v;
  }

  function updateContact() {
    var el = document.getElementById("contact");
    if (!el) return;
    var since = Date.now() - lastContact;
    // Two missed refreshes and a little slack: the server is not answering
    // (one failed refresh may be a restart; it is not yet news).
    var lost = since > 2.5 * refreshMs();
    el.classList.toggle("lost", lost);
    document.documentElement.classList.toggle("contact-lost", lost);
    if (lost) {
      el.textContent = "No answer from the dashboard server for " + span(since) + ": what you see may be out of date.";
      el.setAttribute("role", "alert");
    } else {
      el.textContent = "Refreshed " + ago(since);
      el.removeAttribute("role");
    }
  }

  function tick() {
    updateTimes(document);
    updateContact();
  }

  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", function () {
    updateTimes(document);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail && e.detail.successful) lastContact = Date.now();
    updateContact();
  });
  setInterval(tick, 1000);
})();
