// Cloud Monitoring Dashboard: the little the browser must do itself.
//
// 1. Relative times. The server writes absolute times (<time datetime>) so
//    that a page's bytes change only when its data does; this turns every
//    <time data-ago> into words ("12 s ago"), <time data-in> too ("in
//    2 h 5 min"), and keeps them ticking.
// 2. Contact. The grid refreshes itself every few seconds; this says when it
//    last did, and as soon as a refresh fails (server down, network gone,
//    signed out, an error) says so across the top and greys the grid, until
//    a refresh succeeds again: a dead wall never passes for a healthy one.
// 3. Title and icon. Each refresh carries the counts for the page title and
//    the icon of the worst state; this puts them in place.
// 4. Wall mode. On a wall page (html.wall) the tiles are sized so that the
//    whole wall fits the screen; when even the smallest readable size does
//    not fit, OK tiles give way ("+N more OK"), never a problem.
// 5. Alerts. Opt-in per browser (the bell button, remembered in
//    localStorage): a short tone and a desktop notification when a refresh
//    brings a CRITICAL server that is not acknowledged and was not CRITICAL
//    in what this page showed before. Never on the first load, at most one
//    tone per refresh; with notifications blocked, the tone alone.
// 6. Menus. The top bar's account menu is a <details> that works without
//    this; this closes it on a click elsewhere or Escape.
// 7. Local times. An absolute time (<time data-local>) comes in UTC, which
//    its tooltip keeps; this writes it in the browser's time zone.
// 8. Live updates. Where the server offers them (<body data-live>), a
//    stream of Server-Sent Events says when what the page shows changed;
//    the part that refreshes itself then refreshes at once instead of at
//    its next interval, which stays as the fallback. A stream that breaks
//    and does not come back counts as lost contact, as a failed refresh
//    does; one the server refuses (too many open) leaves the interval alone.
(function () {
  "use strict";

  var root = document.documentElement;

  function ago(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "\u00a0s ago";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "\u00a0min ago";
    var h = Math.floor(m / 60);
    if (h < 48) return h + "\u00a0h ago";
    return Math.floor(h / 24) + "\u00a0days ago";
  }

  function span(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  // lasted words how long something has lasted, short enough for a tile:
  // "40 s", "12 min", "5 h", "3 d".
  function lasted(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min";
    var h = Math.floor(m / 60);
    if (h < 48) return h + " h";
    return Math.floor(h / 24) + " d";
  }

  function clock(t) {
    var d = new Date(t);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function updateTimes(el) {
    var now = Date.now();
    var els = (el || document).querySelectorAll("time[data-ago], time[data-for], time[data-clock], time[data-in]");
    for (var i = 0; i < els.length; i++) {
      var t = Date.parse(els[i].getAttribute("datetime"));
      if (isNaN(t)) continue;
      if (!els[i].title) els[i].title = els[i].textContent;
      if (els[i].hasAttribute("data-for")) els[i].textContent = lasted(now - t);
      else if (els[i].hasAttribute("data-clock")) els[i].textContent = clock(t).slice(0, 5);
      else if (els[i].hasAttribute("data-in")) els[i].textContent = t > now ? "in " + span(t - now) : "now";
      else els[i].textContent = ago(now - t);
    }
  }

  // --- Contact ---------------------------------------------------------

  var lastContact = Date.now();
  var failure = ""; // why the last refresh failed; "" when it did not

  function grid() { return document.getElementById("grid"); }

  // refreshing is the part of the page that refreshes itself: the grid, or
  // a server's alarms; null on pages that do not.
  function refreshing() { return document.querySelector("[data-refresh-ms]"); }

  function refreshMs() {
    // The part that refreshes (the grid, or a server's alarms) says how often.
    var el = document.querySelector("[data-refresh-ms]");
    var v = el ? parseInt(el.getAttribute("data-refresh-ms"), 10) : NaN;
    return isNaN(v) || v <= 0 ? 20000 : v;
  }

  function updateContact() {
    if (!refreshing()) return;
    var since = Date.now() - lastContact;
    // A refresh failed, or none answered for an interval and a margin
    // (a request that hangs is cut off before the next one is due).
    var streamLost = liveDown > 0 && Date.now() - liveDown > refreshMs() + 5000;
    var lost = failure !== "" || since > refreshMs() + 5000 || streamLost;
    var was = root.classList.contains("contact-lost");
    root.classList.toggle("contact-lost", lost);
    var banner = document.getElementById("nocontact");
    if (banner) {
      banner.hidden = !lost;
      if (lost) {
        var reason = failure || (streamLost ? "live updates stopped" : "");
        banner.textContent = "No contact with the dashboard since " + clock(lastContact) +
          (reason ? " (" + reason + ")" : "") + "; data below is " + span(since) + " old. Retrying…";
      }
    }
    if (lost !== was) fit(); // the banner takes or gives back room
    var el = document.getElementById("contact");
    if (el) {
      el.classList.toggle("lost", lost);
      el.textContent = lost ? "No contact since " + clock(lastContact) : "Refreshed " + ago(since);
    }
  }

  function why(xhr) {
    if (!xhr || !xhr.status) return "no answer";
    if (xhr.status === 401) return "signed out: sign in again";
    if (xhr.status === 404 || xhr.status === 410) return "this page is gone";
    return "error " + xhr.status;
  }

  // fromGrid tells the page's own refresh (of the grid or of a server's
  // alarms) from other requests. (When the
  // swap has replaced the grid, htmx reports the request's end on an
  // ancestor still in the page, so the element is no guide; the request's
  // HX-Trigger header, the grid's id, is.)
  function fromGrid(e) {
    var d = e.detail || {};
    var id = d.requestConfig && d.requestConfig.headers ? d.requestConfig.headers["HX-Trigger"] : d.elt && d.elt.id;
    return id === "grid" || id === "server" || id === "timeline";
  }

  document.addEventListener("htmx:afterRequest", function (e) {
    if (!fromGrid(e)) return;
    if (e.detail.successful) {
      lastContact = Date.now();
      failure = "";
    } else {
      failure = why(e.detail.xhr);
    }
    updateContact();
  });
  document.addEventListener("htmx:sendError", function (e) {
    if (fromGrid(e)) { failure = "no answer"; updateContact(); }
  });
  document.addEventListener("htmx:timeout", function (e) {
    if (fromGrid(e)) { failure = "no answer in time"; updateContact(); }
  });

  // --- Live updates --------------------------------------------------------

  var liveDown = 0; // when the stream broke; 0 while it is up, or when there is none
  var live = null;

  function startLive() {
    var url = document.body.getAttribute("data-live");
    if (!url || !refreshing() || typeof EventSource === "undefined") return;
    if (live) live.close();
    var es = live = new EventSource(url);
    es.onopen = function () { liveDown = 0; updateContact(); };
    // Every event is a change (the first one too: something may have
    // changed since the page was made); what did not change the page
    // answers 304.
    es.onmessage = function () {
      liveDown = 0;
      var el = refreshing();
      if (el && window.htmx) window.htmx.trigger(el, "live");
    };
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) {
        // Refused (too many streams, live updates off): the browser does
        // not try again. The interval refreshes; try the stream later.
        liveDown = 0;
        setTimeout(function () { if (live === es) startLive(); }, 60000);
      } else if (!liveDown) {
        liveDown = Date.now(); // the browser is reconnecting
      }
      updateContact();
    };
  }

  // A refresh the stream asked for wants the new data: it says so, and the
  // server waits for the new page instead of answering the one before.
  document.addEventListener("htmx:configRequest", function (e) {
    var ev = e.detail && e.detail.triggeringEvent;
    if (ev && ev.type === "live") e.detail.headers["X-Dashboard-Live"] = "1";
  });

  // --- Title and icon ----------------------------------------------------

  // The title is the grid's counts, then the page's own name.
  var titleTail = (function () {
    var g = grid();
    var head = g ? g.getAttribute("data-title") || "" : "";
    var t = document.title;
    return t.indexOf(head) === 0 ? t.slice(head.length) : t;
  })();

  function updateTitle() {
    var g = grid();
    if (!g) return;
    document.title = (g.getAttribute("data-title") || "") + titleTail;
    var href = g.getAttribute("data-icon");
    var link = document.querySelector("link[rel=icon]");
    if (href && link && link.getAttribute("href") !== href) link.setAttribute("href", href);
  }

  // --- Tile tooltips: counts and the age of the data ----------------------

  document.addEventListener("mouseover", function (e) {
    var t = e.target.closest ? e.target.closest(".tile .t") : null;
    if (!t) return;
    if (!t.hasAttribute("data-base-title")) {
      var label = t.querySelector(".label");
      t.setAttribute("data-base-title", t.getAttribute("title") || (label ? labelText(label) : ""));
    }
    var sec = t.closest("section.account");
    var when = sec ? sec.querySelector(".account-head .age time") : null;
    var age = when ? "data from " + ago(Date.now() - Date.parse(when.getAttribute("datetime"))) : "data up to date";
    t.setAttribute("title", t.getAttribute("data-base-title") + " (" + age + ")");
  });

  // --- Wall mode: fit the screen ------------------------------------------

  // Tiles shrink first, down to MIN_RING; then tiles give way, OK ones
  // first, then UNKNOWN, then WARNING, each folded into a "+N more" tile
  // of its state; a CRITICAL server never does: below that, tiles shrink
  // further (to FLOOR_RING) and headings compact.
  // MIN_RING and FLOOR_RING grow with the screen: a 56 px ring reads on
  // an HD screen, but is a speck on a 4K one seen from as far.
  var MIN_RING = 56, FLOOR_RING = 22, TERSE_RING = 76;
  function minRing() { return Math.max(MIN_RING, Math.round(window.innerHeight / 20)); }
  function floorRing() { return Math.max(FLOOR_RING, Math.round(window.innerHeight / 40)); }
  var SHORT = { OK: "OK", UNKNOWN: "UNKN", WARNING: "WARN" };
  var FOLDS = [["ok", "OK", "OK"], ["unknown", "UNKNOWN", "UNKN"], ["warning", "WARNING", "WARN"]];

  function overflows() {
    return root.scrollHeight > window.innerHeight + 1;
  }

  function setRing(px) {
    root.style.setProperty("--ring", px + "px");
    root.classList.toggle("terse", px < TERSE_RING);
  }

  // fold hides the last k of tiles (in page order); each section that lost
  // some says so in one "+N more" tile at its end, a line per state
  // ("+3 WARNING"), worst first.
  function fold(state, word, tiles, k) {
    var i, olds = document.querySelectorAll("#grid .more-" + state);
    for (i = 0; i < olds.length; i++) {
      var box = olds[i].parentNode;
      olds[i].remove();
      if (!box.children.length) box.remove();
    }
    var hidden = new Map();
    for (i = 0; i < tiles.length; i++) {
      var gone = i >= tiles.length - k;
      tiles[i].classList.toggle("gone", gone);
      if (gone) {
        var ul = tiles[i].parentNode;
        hidden.set(ul, (hidden.get(ul) || 0) + 1);
      }
    }
    hidden.forEach(function (n, ul) {
      var li = ul.querySelector(":scope > li.more");
      if (!li) {
        li = document.createElement("li");
        li.className = "more";
        ul.appendChild(li);
      }
      var line = document.createElement("span");
      line.className = "more-n more-" + state;
      line.setAttribute("data-state", word);
      line.setAttribute("data-count", String(n));
      line.textContent = "+" + n + " " + SHORT[word];
      line.title = n + " more " + word + " " + (n === 1 ? "server" : "servers") + " not shown: the screen is full";
      li.insertBefore(line, li.firstChild); // folded last, worst: first
    });
  }

  // shortenLabels shortens names that do not fit their tile (a server's
  // "mail-03.pr…", an alarm's "HTTP https://mail-…/ alarm"), keeping them
  // in full in the tile's title.
  var labelHTML = new WeakMap(); // a name's markup as sent, with its line breaks
  var NAMES = "#grid li.tile .label, #grid li.tile .what .alarm";

  // restoreLabels puts every name shortened by an earlier fit back whole,
  // so that a new fit measures the tiles as they were sent.
  function restoreLabels() {
    var els = document.querySelectorAll(NAMES);
    for (var i = 0; i < els.length; i++) {
      if (labelHTML.has(els[i])) els[i].innerHTML = labelHTML.get(els[i]);
    }
  }

  // labelText is a name in full, even while it is shown shortened.
  function labelText(el) {
    var html = labelHTML.get(el);
    if (html === undefined) return el.textContent;
    var span = document.createElement("span");
    span.innerHTML = html; // the page's own markup, saved by shortenLabels
    return span.textContent;
  }

  function shortenLabels() {
    var labels = document.querySelectorAll("#grid li.tile:not(.gone) .label, #grid li.tile:not(.gone) .what .alarm");
    for (var i = 0; i < labels.length; i++) {
      var el = labels[i];
      if (!labelHTML.has(el)) labelHTML.set(el, el.innerHTML);
      if (!clipped(el)) continue;
      var full = el.textContent;
      var cut = el.classList.contains("label") ? serverName : middle;
      var lo = 2, hi = full.length - 1;
      while (hi - lo > 1) {
        var mid = Math.floor((lo + hi) / 2);
        el.textContent = cut(full, mid);
        if (clipped(el)) hi = mid; else lo = mid;
      }
      el.textContent = cut(full, lo);
    }
  }
  function clipped(el) { return el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1; }
  // middle keeps keep characters of s, its start and its end.
  function middle(s, keep) {
    var head = Math.ceil(keep * 0.6);
    return s.slice(0, head) + "\u2026" + s.slice(s.length - (keep - head));
  }
  // serverName keeps keep characters of a server's name. What tells
  // servers apart is in the first label of a DNS name, often its last
  // digits ("mail-03" and "mail-04" of "mail-03.prod.example.com"): the
  // label stays whole while it fits and the domain is cut at the right
  // ("mail-03.pr…"); a label too long alone keeps its start and its end
  // ("work…0003" of "worker-lon-0003.example.net"). A name without dots
  // loses its middle.
  function serverName(s, keep) {
    var dot = s.indexOf(".");
    if (dot <= 0) return middle(s, keep);
    if (keep >= dot) return s.slice(0, s.charAt(keep - 1) === "." ? keep - 1 : keep) + "\u2026";
    var head = Math.floor(keep / 2);
    return s.slice(0, head) + "\u2026" + s.slice(dot - (keep - head), dot);
  }

  // largestRing finds the largest ring size in [lo, hi] at which the page
  // fits, or lo when none does.
  function largestRing(lo, hi) {
    setRing(hi);
    if (!overflows()) return hi;
    while (hi - lo > 2) {
      var mid = Math.floor((lo + hi) / 2);
      setRing(mid);
      if (overflows()) hi = mid; else lo = mid;
    }
    setRing(lo);
    return lo;
  }

  // fit sizes the wall to the screen; it leaves the ring size and the
  // number of tiles of each state that gave way in data-ring and
  // data-hidden-ok, data-hidden-unknown, data-hidden-warning on <html>.
  function fit() {
    if (!root.classList.contains("wall") || !grid()) return;
    restoreLabels();
    var hidden = fitRings();
    shortenLabels();
    root.setAttribute("data-ring", getComputedStyle(root).getPropertyValue("--ring").trim());
    FOLDS.forEach(function (f, i) { root.setAttribute("data-hidden-" + f[0], String(hidden[i] || 0)); });
  }

  // The stages of a crowded wall, each tried with tiles folded as needed
  // before the next: headings compacted and the latest changes left out,
  // then problem tiles that say their name and how long only.
  var CROWDED = [[], ["compact"], ["compact", "dense"]];

  function fitRings() {
    var max = Math.max(minRing(), Math.min(280, Math.floor(window.innerHeight / 4), Math.floor(window.innerWidth / 6)));
    var groups = FOLDS.map(function (f) {
      return Array.prototype.slice.call(document.querySelectorAll("#grid .tile.state-" + f[0]));
    });
    var unfold = function () { FOLDS.forEach(function (f, i) { fold(f[0], f[1], groups[i], 0); }); };
    root.classList.remove("compact", "dense");
    unfold();
    largestRing(minRing(), max);
    if (!overflows()) return [0, 0, 0];
    for (var c = 0; c < CROWDED.length; c++) {
      CROWDED[c].forEach(function (k) { root.classList.add(k); });
      unfold();
      setRing(minRing());
      if (!overflows()) return [0, 0, 0];
      var hidden = foldUntilFits(groups);
      if (hidden) {
        largestRing(minRing(), max); // the room left makes tiles bigger
        return hidden;
      }
    }
    // CRITICAL servers alone do not fit even so: the largest tiles at which
    // they do, then as many of the others back as fit beside them.
    FOLDS.forEach(function (f, i) { fold(f[0], f[1], groups[i], groups[i].length); });
    largestRing(floorRing(), minRing());
    unfold();
    return foldUntilFits(groups) || groups.map(function (g) { return g.length; });
  }

  // foldUntilFits folds tiles state by state (OK, UNKNOWN, WARNING), as
  // few as need to (the fewest hidden that fit, by bisection), and returns
  // how many of each; null when even all of them folded do not fit.
  function foldUntilFits(groups) {
    var hidden = [0, 0, 0];
    for (var g = 0; g < FOLDS.length; g++) {
      var tiles = groups[g], lo = 0, hi = tiles.length;
      fold(FOLDS[g][0], FOLDS[g][1], tiles, hi);
      hidden[g] = hi;
      if (overflows()) continue; // all of them go, and the next state too
      while (hi - lo > 1) {
        var mid = Math.floor((lo + hi) / 2);
        fold(FOLDS[g][0], FOLDS[g][1], tiles, mid);
        if (overflows()) lo = mid; else hi = mid;
      }
      fold(FOLDS[g][0], FOLDS[g][1], tiles, hi);
      hidden[g] = hi;
      return hidden;
    }
    return null;
  }

  var fitTimer = 0;
  window.addEventListener("resize", function () {
    clearTimeout(fitTimer);
    fitTimer = setTimeout(fit, 150);
  });

  // --- Alerts ----------------------------------------------------------------

  var ALERTS_KEY = "dashboard.alerts";
  var shownCritical = null; // keys of the unacknowledged CRITICAL tiles shown; null before the first look
  var audio = null;

  function alertsOn() {
    try { return localStorage.getItem(ALERTS_KEY) === "on"; } catch (e) { return false; }
  }

  // criticalNow maps every CRITICAL tile shown (acknowledged or not) to its
  // name, or to "" when it is acknowledged or in maintenance.
  function criticalNow() {
    var out = new Map();
    var tiles = document.querySelectorAll('#grid li.tile[data-state="CRITICAL"]');
    for (var i = 0; i < tiles.length; i++) {
      var sec = tiles[i].closest("section[data-account-id]");
      var label = tiles[i].querySelector(".label");
      var name = sec ? (sec.querySelector("h2") || sec).textContent.trim() : "";
      out.set((sec ? sec.getAttribute("data-account-id") : "") + "/" + tiles[i].getAttribute("data-server-id"),
        tiles[i].classList.contains("acked") || tiles[i].classList.contains("maint") ? "" :
          (label ? labelText(label) : tiles[i].getAttribute("data-server-id")) + (name ? " (" + name + ")" : ""));
    }
    return out;
  }

  function tone() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
      var t = audio.currentTime;
      [0, 0.22].forEach(function (at, i) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.type = "square";
        o.frequency.value = i ? 660 : 880;
        g.gain.setValueAtTime(0.0001, t + at);
        g.gain.exponentialRampToValueAtTime(0.15, t + at + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.18);
        o.connect(g).connect(audio.destination);
        o.start(t + at);
        o.stop(t + at + 0.2);
      });
    } catch (e) { /* no sound: the page goes on */ }
  }

  function notify(names) {
    var body = names.slice(0, 5).join(", ") + (names.length > 5 ? " and " + (names.length - 5) + " more" : "");
    var title = names.length === 1 ? "New CRITICAL server" : names.length + " new CRITICAL servers";
    try {
      if (window.Notification && Notification.permission === "granted") {
        new Notification(title, { body: body, tag: "dashboard-critical", icon: (grid() || root).getAttribute("data-icon") || undefined });
      }
    } catch (e) { /* blocked or unsupported: the tone and the page say it */ }
  }

  // checkCritical compares what a refresh brought with what the page showed;
  // a reset (first load, a new filter, Back) only takes a new baseline.
  function checkCritical(reset) {
    if (!grid()) return;
    var now = criticalNow();
    if (!reset && shownCritical !== null) {
      var fresh = [];
      // New: CRITICAL and not acknowledged now, not CRITICAL before (an
      // acknowledgement that ends on a server still CRITICAL is not news).
      now.forEach(function (name, key) { if (name && !shownCritical.has(key)) fresh.push(name); });
      if (fresh.length > 0 && alertsOn()) {
        root.setAttribute("data-alerts", String((parseInt(root.getAttribute("data-alerts"), 10) || 0) + 1));
        tone();
        notify(fresh);
      }
    }
    shownCritical = now;
  }

  function updateBell() {
    var b = document.getElementById("alerts");
    if (!b || !grid()) return;
    var on = alertsOn();
    b.hidden = false;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = on ? "Alerts on" : "Alerts off";
    b.title = on ? "A tone and a desktop notice for each new CRITICAL server; click to turn off" :
      "Click for a tone and a desktop notice when a server turns CRITICAL (this browser only)";
  }

  document.addEventListener("click", function (e) {
    if (!e.target.closest || !e.target.closest("#alerts")) return;
    var on = !alertsOn();
    try { localStorage.setItem(ALERTS_KEY, on ? "on" : "off"); } catch (err) { return; }
    if (on) {
      tone(); // the click lets the page make sound from now on; a test of it
      try {
        if (window.Notification && Notification.permission === "default") Notification.requestPermission();
      } catch (err) { /* notifications blocked: the tone alone */ }
    }
    updateBell();
  });

  // --- Menus (the top bar's account menu) ------------------------------------

  // A <details class="menu"> opens and closes by itself; this closes an
  // open one on a click elsewhere or Escape, as a menu does.
  function closeMenus(except) {
    var open = document.querySelectorAll("details.menu[open]");
    for (var i = 0; i < open.length; i++) {
      if (open[i] !== except) open[i].open = false;
    }
  }

  document.addEventListener("click", function (e) {
    closeMenus(e.target.closest ? e.target.closest("details.menu") : null);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var menu = document.querySelector("details.menu[open]");
    if (!menu) return;
    closeMenus(null);
    menu.querySelector("summary").focus();
  });

  // --- Local times ------------------------------------------------------------

  // localStamp is t in the browser's time zone, as the server writes UTC:
  // "2026-12-04 18:04:12 CET".
  function localStamp(t) {
    var d = new Date(t);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var zone = "";
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(d);
      for (var i = 0; i < parts.length; i++) if (parts[i].type === "timeZoneName") zone = parts[i].value;
    } catch (e) { /* no zone name: the time alone */ }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()) + (zone ? " " + zone : "");
  }

  function localTimes() {
    var els = document.querySelectorAll("time[data-local]");
    for (var i = 0; i < els.length; i++) {
      var t = Date.parse(els[i].getAttribute("datetime"));
      if (isNaN(t)) continue;
      if (!els[i].title) els[i].title = els[i].textContent;
      els[i].textContent = localStamp(t);
    }
  }

  document.addEventListener("DOMContentLoaded", localTimes);
  document.addEventListener("htmx:afterSwap", localTimes);
  document.addEventListener("htmx:historyRestore", localTimes);

  // --- Wiring --------------------------------------------------------------

  function afterGrid(e) {
    updateTimes(document);
    updateTitle();
    fit();
    // Only the grid's own refresh can bring news; a filter typed or a page
    // restored shows other tiles, not new problems.
    checkCritical(!(e && fromGrid(e)));
  }

  document.addEventListener("DOMContentLoaded", function () {
    afterGrid(null);
    updateContact();
    updateBell();
    startLive();
  });
  document.addEventListener("htmx:afterSwap", afterGrid);
  document.addEventListener("htmx:historyRestore", function () { afterGrid(null); updateBell(); });
  setInterval(function () {
    updateTimes(document);
    updateContact();
  }, 1000);
})();
