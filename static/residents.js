// The residents' report page: the village outline on a blank map (no tiles, no network);
// a tap inside puts the point in the form's lon/lat fields.
(function () {
  "use strict";
  var box = document.getElementById("resident-map");
  if (!box || typeof L === "undefined") { return; }
  var outline = null;
  try { outline = JSON.parse(box.getAttribute("data-outline") || "null"); } catch (e) { outline = null; }
  if (!outline) { box.hidden = true; return; }
  var map = L.map(box, { attributionControl: false, zoomSnap: 0.25 });
  var shape = L.geoJSON(outline, { style: { color: "#1f5f8b", weight: 2, fillOpacity: 0.08 } }).addTo(map);
  map.fitBounds(shape.getBounds(), { padding: [8, 8] });
  var lon = document.getElementById("lon"), lat = document.getElementById("lat");
  var said = document.getElementById("tapped"), marker = null;
  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.6 }).addTo(map);
    }
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    said.textContent = lat.value + ", " + lon.value;
  }
  if (lat.value && lon.value) { place(L.latLng(parseFloat(lat.value), parseFloat(lon.value))); }
  map.on("click", function (event) { place(event.latlng); });
  box.gmMap = map; // for the browser tests: where a place lies on screen
}());
