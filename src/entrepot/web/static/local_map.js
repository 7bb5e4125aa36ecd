// The city map of local services: every element with data-local-map="ID" is drawn with Leaflet
// (vendor/leaflet-1.9.4) over the city's roads, read from this server (/local/roads.json, web/local_map.py:
// OpenStreetMap's lines, with their ODbL attribution shown in the map's corner). Its places are the JSON
// in <script type="application/json" id="ID-data"> (web/maps.py's Map.spec), as map.js reads them: no
// inline script, no tile server. Inside a live region (static/live.js), each update's figures may carry
// "points": the places again (couriers move), drawn in place of the old ones. The tables beside the map
// are its text alternative. A drawn map's element gets data-drawn="true" (what browser tests wait for).
(function () {
  "use strict";
  var ROADS = "/local/roads.json";
  var PALETTE = ["#1f5fa8", "#c8553d", "#2a9d8f", "#8a5a9e", "#e0a100", "#5c6b73", "#7a9e2f", "#b23a7a"];
  var roads = null; // one request for every map of the page

  function cityRoads() {
    if (!roads) {
      roads = fetch(ROADS, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error("roads " + r.status); }
        return r.json();
      });
    }
    return roads;
  }

  // the same colour for a kind of place on every page, whichever kinds a map happens to have
  var KNOWN = { store: PALETTE[0], courier: PALETTE[1], drop_off: PALETTE[2] };

  function colours(groups) {
    var out = {};
    groups.forEach(function (g, i) { out[g] = KNOWN[g] || PALETTE[(i + 3) % PALETTE.length]; });
    return out;
  }

  function drawRoads(map, body) {
    var renderer = L.canvas({ padding: 0.2 }); // some 800 lines: one canvas, not 800 SVG paths
    L.polyline(body.lines, { renderer: renderer, color: "#b9bfb6", weight: 1.5, interactive: false }).addTo(map);
    map.attributionControl.addAttribution(body.attribution);
  }

  function drawPoints(layer, points, palette) {
    layer.clearLayers();
    points.forEach(function (p) {
      L.circleMarker([p.latitude, p.longitude], {
        // a courier smaller, so one waiting at a store leaves the store in sight
        radius: p.group === "courier" ? 5 : 8, color: "#fff", weight: 1.5, fillColor: palette[p.group] || PALETTE[0], fillOpacity: 0.95
      }).bindTooltip(p.label + (p.detail ? " · " + p.detail : "")).addTo(layer);
    });
  }

  function legend(element, groups, palette) {
    var box = document.createElement("div");
    box.className = "map-legend";
    box.setAttribute("aria-hidden", "true"); // the table names each place's kind
    groups.forEach(function (g) {
      var row = document.createElement("span"), swatch = document.createElement("span");
      row.className = "map-legend-entry";
      swatch.className = "map-swatch map-swatch-dot";
      swatch.style.background = palette[g];
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(g.replace(/_/g, " ")));
      box.appendChild(row);
    });
    element.insertAdjacentElement("afterend", box);
  }

  function frame(map, points, bbox) {
    if (points.length) {
      var bounds = L.latLngBounds(points.map(function (p) { return [p.latitude, p.longitude]; }));
      map.fitBounds(bounds.pad(0.3), { maxZoom: 16, animate: false });
    } else if (bbox) {
      map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { animate: false });
    } else {
      map.setView([60.17, 24.94], 13, { animate: false });
    }
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-local-map") + "-data");
    if (!source || typeof L === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var map = L.map(element, { minZoom: 11, maxZoom: 18, zoomSnap: 0.5 });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com/">Leaflet</a>');
    var palette = colours(spec.point_groups), places = L.layerGroup().addTo(map);
    frame(map, spec.points, null);
    drawPoints(places, spec.points, palette);
    if (spec.point_groups.length > 1) { legend(element, spec.point_groups, palette); }
    var region = element.closest("[data-live-source]");
    if (region) {
      region.addEventListener("live:update", function (e) {
        if (e.detail && Array.isArray(e.detail.points)) { drawPoints(places, e.detail.points, palette); }
      });
    }
    cityRoads().then(function (body) {
      drawRoads(map, body);
      if (!spec.points.length) { frame(map, [], body.bbox); }
      places.eachLayer(function (m) { m.bringToFront(); });
      element.setAttribute("data-drawn", "true");
    }, function () {
      element.setAttribute("data-drawn", "no-roads"); // the places are still worth showing
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-local-map]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
