// The import report's map: where the problems are. Overlaps, gaps and shapes outside their
// parent drawn in red, households outside every grid as red points. No basemap (no outside
// host); labels go in as text, never HTML.
(function () {
  "use strict";
  var holder = document.getElementById("problem-map");
  var data = document.getElementById("problem-shapes");
  if (!holder || !data || typeof L === "undefined") { return; }
  var shapes = JSON.parse(data.textContent);
  var map = L.map(holder, { zoomControl: true, attributionControl: false, maxZoom: 19 });
  var red = "#d32f2f";
  var layer = L.geoJSON(shapes, {
    style: function (feature) {
      var gap = feature.properties.kind === "gap";
      return { color: red, weight: 2, fillColor: red, fillOpacity: gap ? 0.15 : 0.45, dashArray: gap ? "6 4" : null };
    },
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 6, color: "#fff", weight: 1.5, fillColor: red, fillOpacity: 0.95 });
    },
    onEachFeature: function (feature, shape) {
      var label = document.createElement("span");
      label.textContent = feature.properties.label;
      shape.bindTooltip(label);
      shape.getElement && shape.on("add", function () {
        var element = shape.getElement();
        if (element) { element.setAttribute("data-kind", feature.properties.kind); }
      });
    }
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 }); } else { map.setView([25.5, 102.4], 10); }
})();
