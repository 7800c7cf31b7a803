/* The grid editor (画网格、拆分、合并、调整公共边): pick grids on the map, draw a line or a
   polygon with Leaflet-Geoman, ask the server for a preview (its problems drawn in red, who
   would move), then save. All geometry work is the server's; this only draws and asks. */
(function () {
  "use strict";
  var mapEl = document.getElementById("ge-map");
  if (!mapEl || !window.L) { return; }
  var village = mapEl.dataset.village;
  var texts = {};
  document.getElementById("ge-texts").content.querySelectorAll("[data-key]").forEach(function (el) { texts[el.dataset.key] = el.textContent; });
  var $ = function (id) { return document.getElementById(id); };
  var NEEDS = {split: {grids: 1, drawn: "Line"}, merge: {grids: 2, drawn: null},
               edge: {grids: 2, drawn: "Line"}, draw: {grids: 0, drawn: "Polygon"}};
  var state = {operation: "split", selected: [], drawn: null, previewed: false};

  var map = L.map(mapEl, {maxZoom: 20, zoomSnap: 0.25});
  L.control.scale({imperial: false}).addTo(map);
  map.attributionControl.setPrefix(false);
  // The panel beside the map grows and shrinks (moves list, problems, the top bar wrapping):
  // Leaflet must know the map's real size, or shapes are clipped at the old edge.
  if (window.ResizeObserver) { new ResizeObserver(function () { map.invalidateSize(); }).observe(mapEl); }
  map.pm.setLang(document.documentElement.lang === "en" ? "en" : "zh");
  map.pm.setGlobalOptions({snappable: true, snapDistance: 12, allowSelfIntersection: false});
  var frame = L.geoJSON(null, {interactive: false, style: {color: "#1b1f24", weight: 3, dashArray: "6 6", fill: false}}).addTo(map);
  var grids = L.geoJSON(null, {style: gridStyle, onEachFeature: onGrid, pmIgnore: true}).addTo(map);
  var preview = L.geoJSON(null, {interactive: false, pmIgnore: true, style: {color: "#0b57d0", weight: 3, fillOpacity: 0.15, dashArray: "2 6"}}).addTo(map);
  var problems = L.geoJSON(null, {interactive: false, pmIgnore: true, style: {color: "#b3261e", weight: 3, fillColor: "#e53935", fillOpacity: 0.55},
                                   pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 10, color: "#b3261e"}); }}).addTo(map);
  var drawnLayer = null;

  function gridStyle(feature) {
    var chosen = state.selected.indexOf(feature.properties.code) >= 0;
    return {color: chosen ? "#b35c00" : "#2e7d32", weight: chosen ? 5 : 2, fillColor: chosen ? "#ffb74d" : "#a5d6a7", fillOpacity: chosen ? 0.45 : 0.25};
  }

  function onGrid(feature, layer) {
    var label = document.createElement("span");  // names are data: text, never HTML
    label.textContent = feature.properties.code + " " + feature.properties.name;
    layer.bindTooltip(label, {sticky: true});
    layer.on("click", function () {
      if (map.pm.globalDrawModeEnabled()) { return; }
      toggle(feature.properties.code);
    });
  }

  function toggle(code) {
    var needed = NEEDS[state.operation].grids;
    var at = state.selected.indexOf(code);
    if (at >= 0) { state.selected.splice(at, 1); }
    else if (needed > 0) {
      state.selected.push(code);
      while (state.selected.length > needed) { state.selected.shift(); }
    }
    changed();
  }

  function load() {
    if (!village) { return Promise.resolve(); }
    return fetch(mapEl.dataset.shapes + "?village=" + encodeURIComponent(village), {headers: {"Accept": "application/geo+json"}, credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (collection) {
        frame.clearLayers(); grids.clearLayers();
        collection.features.forEach(function (f) { (f.properties.kind === "village" ? frame : grids).addData(f); });
        map.invalidateSize();
        var bounds = frame.getBounds().isValid() ? frame.getBounds() : grids.getBounds();
        if (bounds.isValid()) { map.fitBounds(bounds, {padding: [16, 16]}); }
        mapEl.dataset.loaded = "1";
      })
      .catch(function () { status(texts.failed, true); });
  }

  function clearResult() {
    preview.clearLayers(); problems.clearLayers();
    $("ge-problems").innerHTML = ""; $("ge-moves").hidden = true;
    state.previewed = false; $("ge-save").disabled = true;
  }

  function changed() {
    grids.setStyle(gridStyle);
    clearResult();
    var needs = NEEDS[state.operation];
    $("ge-help").textContent = texts["help-" + state.operation];
    $("ge-selected").textContent = needs.grids ? texts.selected + (state.selected.join(texts.comma) || texts.none) : "";
    $("ge-draw").hidden = !needs.drawn;
    $("ge-draw-label").textContent = needs.drawn === "Polygon" ? texts["draw-polygon"] : texts["draw-line"];
    $("ge-name-row").hidden = !(state.operation === "split" || state.operation === "draw");
    $("ge-preview").disabled = !ready();
    status("");
  }

  function ready() {
    var needs = NEEDS[state.operation];
    return state.selected.length === needs.grids && (!needs.drawn || state.drawn !== null);
  }

  function status(text, bad) {
    var el = $("ge-status");
    el.textContent = text || "";
    el.className = "ge-status" + (bad ? " ge-bad" : (text ? " ge-good" : ""));
  }

  function dropDrawn() {
    if (drawnLayer) { map.removeLayer(drawnLayer); drawnLayer = null; }
    state.drawn = null;
  }

  map.on("pm:create", function (e) {
    dropDrawn();
    drawnLayer = e.layer;
    state.drawn = e.layer.toGeoJSON().geometry;
    changed();
  });

  function body() {
    var data = {operation: state.operation, grids: state.selected.slice()};
    if (state.operation === "draw") { data.village_code = village; data.polygon = state.drawn; }
    else if (state.drawn) { data.line = state.drawn; }
    var name = $("ge-name").value.trim();
    if (name && !$("ge-name-row").hidden) { data.name = name; }
    return data;
  }

  function post(url) {
    var token = document.querySelector('meta[name="csrf-token"]').content;
    return fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body()),
                       headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token}})
      .then(function (r) { return r.json().then(function (answer) { return {status: r.status, answer: answer}; }); });
  }

  function show(answer, saved) {
    preview.clearLayers(); problems.clearLayers();
    if (!saved) { preview.addData(answer.shapes); }
    problems.addData({type: "FeatureCollection", features: answer.problems.features.filter(function (f) { return f.geometry; })});
    var list = $("ge-problems");
    list.innerHTML = "";
    answer.problems.features.forEach(function (f) {
      var li = document.createElement("li"); li.textContent = f.properties.message; list.appendChild(li);
    });
    $("ge-moves-title").textContent = saved ? texts.moved : texts.moves;
    var rows = $("ge-moves-rows");
    rows.innerHTML = "";
    var duties = answer.duties || [];
    if (!answer.moved.length && !duties.length) {
      var tr = rows.insertRow(), td = tr.insertCell();
      td.colSpan = 4; td.textContent = texts["no-moves"];
    }
    function row(cells) {
      var tr = rows.insertRow();
      cells.forEach(function (text) { tr.insertCell().textContent = text; });
    }
    answer.moved.forEach(function (m) {
      row([texts[m.table] || m.table, m.code, m.before || texts["no-grid"], m.after || texts["no-grid"]]);
    });
    // 包组 of a grid merged away: the surviving grid takes it over, or it ends (that grid has its own)
    duties.forEach(function (d) {
      row([texts.group, d.name + " " + d.unit, d.before, d.after || texts["duty-ended"]]);
    });
    $("ge-moves").hidden = false;
    $("ge-status").scrollIntoView({block: "start"});
    if (problems.getLayers().length) { map.fitBounds(problems.getBounds().pad(0.5), {maxZoom: map.getZoom()}); }
  }

  function refused(answer) {
    status((answer && answer.message) || texts.failed, true);
  }

  $("ge-preview").addEventListener("click", function () {
    $("ge-preview").disabled = true;
    post(mapEl.dataset.preview).then(function (r) {
      $("ge-preview").disabled = false;
      if (r.status !== 200) { clearResult(); refused(r.answer); return; }
      show(r.answer, false);
      state.previewed = r.answer.ok;
      $("ge-save").disabled = !r.answer.ok;
      status(r.answer.ok ? texts.ok : texts["not-ok"], !r.answer.ok);
    }).catch(function () { $("ge-preview").disabled = false; status(texts.failed, true); });
  });

  $("ge-save").addEventListener("click", function () {
    $("ge-save").disabled = true;
    post(mapEl.dataset.save).then(function (r) {
      if (r.status === 200) {
        dropDrawn(); state.selected = [];
        var answer = r.answer;
        load().then(function () {
          changed(); show(answer, true); status(texts.saved, false);
          mapEl.dataset.saved = String(Number(mapEl.dataset.saved || 0) + 1);
        });
      } else if (r.status === 409) {
        show(r.answer, false); status(texts["not-ok"], true);
      } else { refused(r.answer); }
    }).catch(function () { status(texts.failed, true); });
  });

  $("ge-draw").addEventListener("click", function () {
    dropDrawn(); changed();
    map.pm.enableDraw(NEEDS[state.operation].drawn, {snappable: true});
  });

  $("ge-reset").addEventListener("click", function () {
    map.pm.disableDraw(); dropDrawn(); state.selected = []; changed();
  });

  document.querySelectorAll("#ge-tools input[name=operation]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      state.operation = radio.value; map.pm.disableDraw(); dropDrawn(); state.selected = []; changed();
    });
  });

  window.gmGridEditor = {map: map, state: state, select: toggle};
  changed();
  load();
}());
