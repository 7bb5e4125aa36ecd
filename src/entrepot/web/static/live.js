// The console's live-update component: figures kept current by server-sent events.
//
// Contract (the console's pages and the storefront use it alike):
// - An element with data-live-source="URL" is a live region: this script opens an EventSource on URL
//   (same origin, the session cookie goes with it) for each such element when the page loads.
// - Each message's data is one JSON object of figures: {"field": value, ...}. In the region, every
//   element marked data-live="field" takes the value: its text (null shows "-"), or, for <meter> and
//   <progress>, its value. Fields the message does not name are left as they are, so a server may send
//   only what changed. The server sends the figures as the page prints them (formatted), so the page
//   reads the same before and after the script runs (web/live.py is the console's sender).
// - Elements marked data-live-status in the region say how the updates stand ("Updating live",
//   "Reconnecting…"); the region's data-live-state attribute is "open", "connecting" or "closed" for
//   styling. The region also gets a "live:update" event with the figures as its detail.
// - The browser reconnects by itself after a dropped connection (the server's `retry` field says when);
//   if it gives up (an error answer, e.g. after signing out), this script tries again after 1 s, 2 s,
//   4 s ... up to 30 s. Streams are closed when the page is left, so the server stops at once, and
//   opened again if the browser brings the page back from its back-forward cache.
// No inline script and no eval: it runs under the console's Content-Security-Policy as a file of its own.
(function () {
  "use strict";
  var FIRST_WAIT_MS = 1000;
  var LONGEST_WAIT_MS = 30000;
  var sources = [];

  function show(element, value) {
    if (element.tagName === "METER" || element.tagName === "PROGRESS") {
      var number = Number(value);
      if (!isNaN(number)) element.value = number;
      return;
    }
    var text = value === null || value === undefined ? "-" : String(value);
    if (element.textContent !== text) element.textContent = text;
  }

  function apply(region, figures) {
    region.querySelectorAll("[data-live]").forEach(function (element) {
      var field = element.getAttribute("data-live");
      if (Object.prototype.hasOwnProperty.call(figures, field)) show(element, figures[field]);
    });
    region.dispatchEvent(new CustomEvent("live:update", { detail: figures }));
  }

  function state(region, name, words) {
    region.setAttribute("data-live-state", name);
    region.querySelectorAll("[data-live-status]").forEach(function (element) {
      if (element.textContent !== words) element.textContent = words;
    });
  }

  function connect(region, wait) {
    var source = new EventSource(region.getAttribute("data-live-source"));
    sources.push(source);
    state(region, "connecting", "Connecting for live updates…");
    source.onopen = function () {
      wait = FIRST_WAIT_MS;
      state(region, "open", "Updating live.");
    };
    source.onmessage = function (message) {
      var figures;
      try {
        figures = JSON.parse(message.data);
      } catch (ignored) {
        return; // not ours: leave the figures as they are
      }
      if (figures && typeof figures === "object") apply(region, figures);
    };
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) {
        state(region, "connecting", "Reconnecting…");
        return; // the browser tries again by itself
      }
      state(region, "closed", "Not updating; trying again shortly.");
      sources.splice(sources.indexOf(source), 1);
      window.setTimeout(function () {
        connect(region, Math.min(wait * 2, LONGEST_WAIT_MS));
      }, wait);
    };
  }

  function start() {
    document.querySelectorAll("[data-live-source]").forEach(function (region) {
      connect(region, FIRST_WAIT_MS);
    });
  }

  window.addEventListener("pagehide", function () {
    sources.forEach(function (source) { source.close(); });
    sources = [];
  });
  // a page brought back from the back-forward cache had its streams closed on leaving: open them again
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) start();
  });
  start();
})();
