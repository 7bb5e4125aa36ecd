// Makes countries-110m.geojson from world-atlas@2.0.2's countries-110m.json (see README.md): TopoJSON to
// GeoJSON with topojson-client@3.1.0, each country's name only, coordinates rounded to 0.01 degree.
// Run once with node beside the unpacked packages; not part of the product.
const topojson = require("./topojson-client-3.1.0/package/dist/topojson-client.js");
const fs = require("fs");

const topology = JSON.parse(fs.readFileSync("world-atlas-2.0.2/package/countries-110m.json"));
const countries = topojson.feature(topology, topology.objects.countries);
const round = (c) => (Array.isArray(c[0]) ? c.map(round) : [Math.round(c[0] * 100) / 100, Math.round(c[1] * 100) / 100]);
const out = {
  type: "FeatureCollection",
  features: countries.features.map((f) => ({
    type: "Feature",
    properties: { name: f.properties.name },
    geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) }
  }))
};
fs.writeFileSync("countries-110m.geojson", JSON.stringify(out));
console.log(out.features.length + " countries");
