// The console's map component: every element with data-map="ID" is drawn with Leaflet
// (vendor/leaflet-1.9.4) from the JSON in <script type="application/json" id="ID-data"> (web/maps.py's
// Map.spec), over the country outlines that ship with the product (vendor/natural-earth-110m), read from
// this server: no tile layer, nothing fetched from anywhere else. The tables beside the map are its text
// alternative; the map itself can be panned and zoomed with the keyboard (Leaflet's own handling).
// When a map is drawn its element gets data-drawn="true" (what the browser tests wait for).
(function () {
  "use strict";
  var BASEMAP = "/static/vendor/natural-earth-110m/countries-110m.geojson";
  var PALETTE = ["#1f5fa8", "#c8553d", "#2a9d8f", "#8a5a9e", "#e0a100", "#5c6b73", "#7a9e2f", "#b23a7a"];
  var ATTRIBUTION = 'Countries: <a href="https://www.naturalearthdata.com/">Natural Earth</a>';
  var basemap = null; // one request for every map of the page

  function countries() {
    if (!basemap) {
      basemap = fetch(BASEMAP, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error("basemap " + r.status); }
        return r.json();
      });
    }
    return basemap;
  }

  function colours(groups) {
    var out = {};
    groups.forEach(function (g, i) { out[g] = PALETTE[i % PALETTE.length]; });
    return out;
  }

  // A line's longitudes continued across the antimeridian (Shanghai to Los Angeles goes east over the
  // Pacific, not west over Asia and Europe).
  function unwrapped(latlngs) {
    var out = [], shift = 0;
    latlngs.forEach(function (p, i) {
      if (i > 0) {
        var step = p[1] + shift - out[i - 1][1];
        if (step > 180) { shift -= 360; } else if (step < -180) { shift += 360; }
      }
      out.push([p[0], p[1] + shift]);
    });
    return out;
  }

  function drawBasemap(map, geojson) {
    // the outlines three times side by side, so a line continued past 180 degrees still has land under it
    [-360, 0, 360].forEach(function (offset) {
      L.geoJSON(geojson, {
        interactive: false,
        coordsToLatLng: function (c) { return L.latLng(c[1], c[0] + offset); },
        style: { color: "#9aa39a", weight: 0.6, fillColor: "#e8ebe4", fillOpacity: 1 }
      }).addTo(map);
    });
  }

  function drawLines(map, spec, places, palette) {
    spec.lines.forEach(function (line) {
      var path = unwrapped(line.stops.map(function (id) { return places[id]; }));
      L.polyline(path, {
        color: palette[line.group] || PALETTE[0],
        weight: spec.lines.length > 200 ? 1 : 2.5,
        opacity: spec.lines.length > 200 ? 0.45 : 0.85,
        dashArray: line.dashed ? "6 5" : null,
        interactive: false
      }).addTo(map);
    });
  }

  function drawPoints(map, spec, palette) {
    var radius = spec.points.length > 100 ? 3 : 6;
    spec.points.forEach(function (p) {
      var marker = L.circleMarker([p.latitude, p.longitude], {
        radius: radius, color: "#fff", weight: 1, fillColor: palette[p.group] || PALETTE[0], fillOpacity: 0.95
      });
      marker.bindTooltip(p.label + (p.detail ? " · " + p.detail : "")).addTo(map);
    });
  }

  // The legend below the map rather than over it (on a phone it would hide most of the map).
  function legend(element, spec, pointPalette, linePalette) {
    var box = document.createElement("div");
    box.className = "map-legend";
    box.setAttribute("aria-hidden", "true"); // the tables name each place's kind and each line's mode
    function entry(name, colour, shape) {
      var row = document.createElement("span"), swatch = document.createElement("span");
      row.className = "map-legend-entry";
      swatch.className = "map-swatch map-swatch-" + shape;
      swatch.style.background = colour;
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(name.replace(/_/g, " ")));
      box.appendChild(row);
    }
    spec.point_groups.forEach(function (g) { entry(g, pointPalette[g], "dot"); });
    spec.line_groups.forEach(function (g) { entry(g, linePalette[g], "line"); });
    element.insertAdjacentElement("afterend", box);
  }

  function frame(map, spec) {
    if (!spec.fit || !spec.points.length) {
      map.setView([20, 100], 2, { animate: false });
      return;
    }
    var bounds = L.latLngBounds(spec.points.map(function (p) { return [p.latitude, p.longitude]; }));
    map.fitBounds(bounds.pad(0.15), { maxZoom: 7, animate: false });
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-map") + "-data");
    if (!source || typeof L === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var map = L.map(element, { worldCopyJump: false, minZoom: 0, maxZoom: 10, zoomSnap: 0.5 });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com/">Leaflet</a>');
    map.attributionControl.addAttribution(ATTRIBUTION);
    var places = {};
    spec.points.forEach(function (p) { places[p.id] = [p.latitude, p.longitude]; });
    var pointPalette = colours(spec.point_groups), linePalette = colours(spec.line_groups);
    frame(map, spec);
    // framed again when the page changes width (a phone turned, a window resized) until a person
    // moves the map themselves
    var moved = false;
    map.on("dragstart", function () { moved = true; });
    map.on("resize", function () { if (!moved) { frame(map, spec); } });
    if (spec.point_groups.length + spec.line_groups.length > 1) {
      legend(element, spec, pointPalette, linePalette);
    }
    countries().then(function (geojson) {
      drawBasemap(map, geojson);
      drawLines(map, spec, places, linePalette);
      drawPoints(map, spec, pointPalette);
      element.setAttribute("data-drawn", "true");
    }, function () {
      // without the outlines the places and lines are still worth drawing
      drawLines(map, spec, places, linePalette);
      drawPoints(map, spec, pointPalette);
      element.setAttribute("data-drawn", "no-basemap");
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
