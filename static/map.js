/* gridmap map page helpers. Loaded before Folium's script; no dependencies besides Leaflet. */
(function () {
  "use strict";
  var gridmap = (window.gridmap = window.gridmap || {});

  function row(table, label, value) {
    var tr = table.insertRow();
    var th = document.createElement("th");
    th.textContent = label;
    tr.appendChild(th);
    tr.insertCell().textContent = value;
  }

  /* `phrase` is a translated whole phrase such as "%(n)s 户" (see gridmap.maps.county). */
  function count(value, phrase) {
    return value === null || value === undefined ? "—"
      : phrase.replace("%(n)s", value.toLocaleString("zh-CN"));
  }

  /* Popup builder for a GeoJSON layer: name, code and counts. Every value goes in with
     textContent, so a name imported from a file can never inject markup. */
  gridmap.popup = function (labels, choropleth, trendUrl) {
    return function (feature, layer) {
      // Which region or grid a shape is, for screen readers and tests.
      layer.on("add", function () {
        var node = layer.getElement ? layer.getElement() : null;
        if (!node) return;
        node.setAttribute("data-code", feature.properties.code);
        node.setAttribute("aria-label", (labels[feature.properties.level] || "") + " " + feature.properties.name);
      });
      layer.bindPopup(function () {
        var p = feature.properties;
        var box = document.createElement("div");
        box.className = "gm-popup";
        var title = document.createElement("div");
        title.className = "gm-popup-title";
        title.textContent = p.name;
        var level = document.createElement("span");
        level.className = "gm-popup-level";
        level.textContent = labels[p.level] || "";
        title.appendChild(level);
        box.appendChild(title);
        var table = document.createElement("table");
        row(table, labels.code, p.code);
        // The official name (插甸村民委员会) beside the short one, when a file brought it.
        if (p.full_name && p.full_name !== p.name) row(table, labels.full_name, p.full_name);
        if (p.context) {
          box.appendChild(table);
          var note = document.createElement("p");
          note.className = "gm-popup-note";
          note.textContent = labels.context;
          box.appendChild(note);
          return box;
        }
        if (p.level !== "grid") row(table, labels.grids, count(p.grids, labels.grids_n));
        row(table, labels.households, count(p.households, labels.households_n));
        if (p.level === "grid" && p.household_target) {
          row(table, labels.household_target, count(p.household_target, labels.households_n));
        }
        if (choropleth && choropleth.measure && choropleth.values[p.level]) {
          var value = choropleth.values[p.level][p.code];
          var hidden = choropleth.suppressed[p.level] && choropleth.suppressed[p.level][p.code];
          row(table, choropleth.measure.label, hidden ? labels.suppressed : value === undefined
            ? (choropleth.measure.kind === "count" ? "0" : labels.no_value)
            : value.toLocaleString("zh-CN") + (choropleth.measure.kind === "rate" ? "%" : ""));
        }
        box.appendChild(table);
        if (trendUrl && p.level !== "grid") {
          // The 三率 by month, drawn by the server as SVG, fetched only when the popup opens.
          var chart = element("img", "gm-trend");
          chart.src = trendUrl + "?region=" + encodeURIComponent(p.code);
          chart.alt = labels.trend;
          chart.width = 340;
          chart.height = 210;
          box.appendChild(chart);
        }
        return box;
      }, {maxWidth: 380, minWidth: 200, autoPanPadding: [24, 24]});
    };
  };

  function portrait(map) {
    var size = map.getSize();
    return size.x < size.y;
  }

  function cornerSize(container, corner) {
    var element = container.querySelector(".leaflet-" + corner.replace(" ", ".leaflet-"));
    return element ? {x: element.offsetWidth, y: element.offsetHeight} : {x: 0, y: 0};
  }

  /* Fit the map to the scope's extent, keeping the shapes clear of the controls: beside the
     right-hand column on a landscape screen, between top and bottom ones in portrait. */
  gridmap.fitScope = function (map, corners) {
    var box = map.getContainer(), view = map.getSize(), gap = 16;
    var topLeft = cornerSize(box, "top left"), topRight = cornerSize(box, "top right");
    var bottomRight = cornerSize(box, "bottom right");
    var padTopLeft, padBottomRight;
    if (view.x >= view.y) {
      padTopLeft = [topLeft.x + gap, gap];
      padBottomRight = [Math.max(topRight.x, bottomRight.x) + gap, gap];
    } else {
      padTopLeft = [gap, Math.max(topLeft.y, topRight.y) + gap];
      padBottomRight = [gap, Math.max(bottomRight.y, cornerSize(box, "bottom left").y) + gap];
    }
    map.fitBounds(corners, {paddingTopLeft: padTopLeft, paddingBottomRight: padBottomRight});
  };

  function classColor(classes, count) {
    for (var i = 0; i < classes.length; i++) {
      if (count >= classes[i].lower && count <= classes[i].upper) return classes[i].color;
    }
    return classes.length ? classes[classes.length - 1].color : "#d9d9d9";
  }

  function extend(base, more) {
    var out = {}, key;
    for (key in base) out[key] = base[key];
    for (key in more) out[key] = more[key];
    return out;
  }

  /* Names at a point inside each shape; taps go through them to the shapes below. The
     name goes in with textContent (a DivIcon's string html would be innerHTML). */
  function addLabels(group, collection) {
    collection.features.forEach(function (feature) {
      var p = feature.properties, lonlat = p.label_lonlat;
      if (!lonlat) return;
      var name = document.createElement("span");
      name.textContent = p.name;
      L.marker([lonlat[1], lonlat[0]], {
        interactive: false, keyboard: false,
        icon: L.divIcon({html: name, iconSize: [0, 0], className: "gm-label gm-label-" + p.level})
      }).addTo(group);
    });
  }

  /* Which level is named at `zoom`: townships far out, villages nearer, grids close up. */
  function labelledLevel(zoom, zooms) {
    if (zoom >= zooms.grid) return "grid";
    if (zoom >= zooms.village) return "village";
    return "township";
  }

  /* ---- A layer in the server's compact encoding (gridmap/maps/compact.py) back to the
     GeoJSON FeatureCollection it encodes; plain GeoJSON passes through. ---- */
  var DEPTH = {Point: 0, MultiPoint: 1, LineString: 1, MultiLineString: 2, Polygon: 2, MultiPolygon: 3};

  /* One encoded polyline (lat before lon, as PostGIS writes it) as [lon, lat] positions. */
  function decodeRun(text, scale) {
    var positions = [], i = 0, n = text.length, lat = 0, lon = 0, value = [0, 0], axis = 0;
    while (i < n) {
      var shift = 0, result = 0, piece;
      do {
        piece = text.charCodeAt(i++) - 63;
        result += (piece & 31) * Math.pow(2, shift);  // past 2^31: no bit operators
        shift += 5;
      } while (piece >= 32);
      value[axis] = result % 2 ? -(result + 1) / 2 : result / 2;
      if (axis === 1) {
        lat += value[0];
        lon += value[1];
        positions.push([lon / scale, lat / scale]);
      }
      axis = 1 - axis;
    }
    return positions;
  }

  function decodeCoordinates(encoded, depth, scale) {
    if (depth <= 1) {
      var run = decodeRun(encoded, scale);
      return depth === 0 ? run[0] : run;
    }
    return encoded.map(function (part) { return decodeCoordinates(part, depth - 1, scale); });
  }

  function propertyValue(column, i) {
    if ("c" in column) return column.c;
    if ("d" in column) return column.d[column.i[i]];
    var value = column.v[i];
    return column.p !== undefined && value !== null ? column.p + value : value;
  }

  gridmap.expandLayer = function (body) {
    if (!body || body.type !== "gridmap.compact") return body;
    if (body.version !== 1) throw new Error("compact layer version " + body.version);
    var names = Object.keys(body.properties), absent = {};
    names.forEach(function (name) {
      var marks = {};
      (body.properties[name].a || []).forEach(function (i) { marks[i] = true; });
      absent[name] = marks;
    });
    var features = [];
    for (var i = 0; i < body.count; i++) {
      var properties = {};
      names.forEach(function (name) {
        if (!absent[name][i]) properties[name] = propertyValue(body.properties[name], i);
      });
      var type = typeof body.geometry_types === "string" ? body.geometry_types : body.geometry_types[i];
      var encoded = body.geometries[i], feature = {type: "Feature"};
      if (body.id) {
        feature.id = body.id.from === undefined ? body.id.v[i]
          : body.id.string ? String(properties[body.id.from]) : properties[body.id.from];
      }
      feature.geometry = encoded === null || type === null ? null
        : {type: type, coordinates: decodeCoordinates(encoded, DEPTH[type], body.scale)};
      feature.properties = properties;
      features.push(feature);
    }
    var collection = {type: "FeatureCollection", features: features}, key;
    for (key in body.members || {}) collection[key] = body.members[key];
    return collection;
  };

  /* A layer of the map: asked for in the compact encoding, handed on as GeoJSON. */
  function fetchLayer(url) {
    var compactUrl = url + (url.indexOf("?") < 0 ? "?" : "&") + "compact=1";
    return fetch(compactUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error(url + ": HTTP " + response.status);
        return response.json();
      })
      .then(gridmap.expandLayer);
  }

  function showProblem(map, message) {
    var box = document.createElement("div");
    box.className = "gm-empty gm-load-failed";
    box.setAttribute("role", "alert");
    box.textContent = message;
    map.getContainer().parentNode.appendChild(box);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function popupBox(title, subtitle) {
    var box = element("div", "gm-popup");
    var head = element("div", "gm-popup-title", title);
    if (subtitle) head.appendChild(element("span", "gm-popup-level", subtitle));
    box.appendChild(head);
    return box;
  }

  /* On phones and in portrait a legend folds to a button naming it (the county keeps the
     screen); the button unfolds it, by tap or keyboard, and says which it is (aria-expanded). */
  var FOLD_LEGENDS = "(max-width: 600px), (orientation: portrait)";

  function foldable(box, templateId) {
    var title = box.querySelector(".gm-legend-title");
    if (!title) return;
    var toggle = element("button", "gm-legend-toggle");
    toggle.type = "button";
    toggle.appendChild(element("span", "gm-legend-toggle-name", title.textContent));
    var body = templateId + "-body";
    box.id = body;
    toggle.setAttribute("aria-controls", body);
    function fold(folded) {
      box.classList.toggle("gm-legend-folded", folded);
      toggle.setAttribute("aria-expanded", folded ? "false" : "true");
    }
    toggle.addEventListener("click", function () {
      fold(!box.classList.contains("gm-legend-folded"));
    });
    box.classList.add("gm-legend-foldable");
    box.insertBefore(toggle, box.firstChild);
    fold(true);
  }

  /* A legend kept in a <template> by the page, as a Leaflet control. */
  function addLegend(map, templateId, position) {
    var template = document.getElementById(templateId);
    if (!template || !template.content.firstElementChild) return null;
    var control = L.control({position: position});
    var box = template.content.firstElementChild.cloneNode(true);
    if (window.matchMedia && window.matchMedia(FOLD_LEGENDS).matches) foldable(box, templateId);
    control.onAdd = function () {
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    return box;
  }

  /* ---- Coverage gaps: one layer per rule, fetched when first switched on. ---- */
  function gapPopup(labels, gap, p) {
    var title = p.name || [p.village, p.grid].filter(Boolean).join(" · ") || p.code || "";
    var box = popupBox(title, labels.gap + " · " + gap.label);
    var table = document.createElement("table");
    if (p.code) row(table, labels.code, p.code);
    if (p.village && p.draw === "point") row(table, labels.village, p.village);
    if (p.households !== undefined && p.households !== null) {
      row(table, labels.households, count(p.households, labels.households_n));
    }
    box.appendChild(table);
    if (p.draw === "area") {
      box.appendChild(element("p", "gm-popup-note",
        labels.area_households_n.replace("%(n)s", (p.households || 0).toLocaleString("zh-CN"))));
    }
    return box;
  }

  function drawGap(config, gap, collection, group) {
    var labels = config.labels, style = config.gap_styles[gap.kind] || {};
    L.geoJSON(collection, {
      pane: "gm-gaps",
      style: function () { return style; },
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        if (p.draw === "point") return L.circleMarker(latlng, extend(style, {pane: "gm-gaps"}));
        var badge = element("span", "gm-gap-badge-number", (p.households || 0).toLocaleString("zh-CN"));
        badge.style.background = style.color;
        return L.marker(latlng, {pane: "gm-gap-marks", keyboard: true,
          title: gap.label + ": " + (p.households || 0),
          icon: L.divIcon({html: badge, iconSize: null, className: "gm-gap-badge gm-gap-badge-" + gap.kind})});
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        describeGap(labels, gap, p, layer);
        // A place no one answers for also says so in words, under its name: found at a
        // glance, and not by its red outline alone.
        var flag = labels.gap_flags[gap.kind];
        if (!flag || !p.label_lonlat) return;
        var words = element("span", "gm-gap-flag-text", flag);
        describeGap(labels, gap, p, L.marker([p.label_lonlat[1], p.label_lonlat[0]], {
          pane: "gm-gap-marks", keyboard: true, title: gap.label + ": " + (p.name || ""),
          icon: L.divIcon({html: words, iconSize: null, className: "gm-gap-flag gm-gap-flag-" + gap.kind})
        })).addTo(group);
      }
    }).addTo(group);
  }

  /* A gap's popup, and which gap a shape or badge shows, for screen readers and tests. */
  function describeGap(labels, gap, p, layer) {
    layer.bindPopup(function () { return gapPopup(labels, gap, p); },
      {maxWidth: 320, minWidth: 200, autoPanPadding: [24, 24]});
    layer.on("add", function () {
      var node = layer.getElement ? layer.getElement() : null;
      if (!node) return;
      node.setAttribute("data-gap", gap.kind);
      if (p.code) node.setAttribute("data-code", p.code);
      if (p.village_code) node.setAttribute("data-village", p.village_code);
      node.setAttribute("aria-label", gap.label + ": " + (p.name || p.village || p.code || ""));
    });
    return layer;
  }

  /* A legend in the left-hand column ends above the scale: where its rows (longer in
     English) need more height than the map has, it scrolls rather than run off the page. */
  function fitLeftColumn(map, box) {
    if (box.classList.contains("gm-legend-foldable")) return;  // folded ones keep their own limit
    function fit() {
      var top = box.getBoundingClientRect().top - map.getContainer().getBoundingClientRect().top;
      var room = map.getSize().y - top - cornerSize(map.getContainer(), "bottom left").y - 16;
      box.style.maxHeight = Math.max(room, 120) + "px";
      box.style.overflowY = "auto";
    }
    fit();
    map.on("resize", fit);
  }

  function mountGaps(map, config) {
    if (!config.gaps) return;
    map.createPane("gm-gaps").style.zIndex = 430;
    map.createPane("gm-gap-marks").style.zIndex = 640;
    var box = addLegend(map, "gm-gap-legend", portrait(map) ? "bottomleft" : "topleft");
    if (!box) return;
    fitLeftColumn(map, box);
    var groups = {}, loaded = {}, pending = 0;
    var container = map.getContainer();
    container.setAttribute("data-gap-counts", "loading");
    fetch(config.gap_counts_url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error(config.gap_counts_url + ": HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        Object.keys(body.counts).forEach(function (kind) {
          var link = box.querySelector('[data-gap-count="' + kind + '"]');
          if (link) link.textContent = body.counts[kind].toLocaleString("en-US");
        });
        container.setAttribute("data-gap-counts", "loaded");
      })
      .catch(function (error) {
        container.setAttribute("data-gap-counts", "failed");
        if (window.console) console.error("gridmap: " + error.message);
      });
    function settle() { container.setAttribute("data-gaps", pending ? "loading" : "loaded"); }
    config.gaps.forEach(function (gap) {
      groups[gap.kind] = L.layerGroup();
      var input = box.querySelector('input[data-gap-kind="' + gap.kind + '"]');
      function show(on) {
        if (!on) { map.removeLayer(groups[gap.kind]); return; }
        groups[gap.kind].addTo(map);
        if (loaded[gap.kind]) return;
        loaded[gap.kind] = true;
        pending += 1; settle();
        fetchLayer(gap.url).then(function (collection) {
          drawGap(config, gap, collection, groups[gap.kind]);
          container.setAttribute("data-gap-" + gap.kind, String(collection.features.length));
        }).catch(function (error) {
          loaded[gap.kind] = false;
          showProblem(map, config.labels.load_failed);
          if (window.console) console.error("gridmap: " + error.message);
        }).then(function () { pending -= 1; settle(); });
      }
      if (input) {
        input.addEventListener("change", function () { show(input.checked); });
        show(input.checked);
      }
    });
    settle();
    mountUnvisited(map, config, box);
  }

  /* ---- The grids longest unvisited: outlined on the map, ranked in the gaps' legend. A
     name in the list moves the map to its grid and opens its popup. ---- */
  function mountUnvisited(map, config, box) {
    if (!config.unvisited_url || !box) return;
    var panel = box.querySelector(".gm-unvisited");
    if (!panel) return;
    var labels = config.labels, list = panel.querySelector("ol"), container = map.getContainer();
    var group = L.layerGroup().addTo(map);
    container.setAttribute("data-unvisited", "loading");
    fetchLayer(config.unvisited_url).then(function (collection) {
      collection.features.forEach(function (feature) {
        var p = feature.properties;
        var days = labels.days_n.replace("%(n)s", p.days.toLocaleString("zh-CN"));
        var shape = L.geoJSON(feature, {pane: "gm-gaps", style: function () { return config.unvisited_style; }});
        shape.eachLayer(function (layer) {
          layer.bindPopup(function () {
            var out = popupBox(p.name, labels.unvisited + " · " + p.rank);
            var table = document.createElement("table");
            row(table, labels.code, p.code);
            if (p.village) row(table, labels.village, p.village);
            row(table, labels.unvisited_days, days);
            out.appendChild(table);
            return out;
          }, {maxWidth: 320, minWidth: 200, autoPanPadding: [24, 24]});
          layer.on("add", function () {
            var node = layer.getElement ? layer.getElement() : null;
            if (!node) return;
            node.setAttribute("data-unvisited", String(p.rank));
            node.setAttribute("data-code", p.code);
            node.setAttribute("aria-label", labels.unvisited + " " + p.rank + ": " + p.name + " " + days);
          });
        });
        shape.addTo(group);
        var lonlat = p.label_lonlat, badge = element("span", "gm-unvisited-badge");
        badge.appendChild(element("b", null, String(p.rank)));
        badge.setAttribute("data-weight", String(-p.rank));  // the longest unvisited first
        badge.appendChild(element("span", null, days));
        L.marker([lonlat[1], lonlat[0]], {pane: "gm-gap-marks", interactive: false, keyboard: false,
          icon: L.divIcon({html: badge, iconSize: null, className: "gm-unvisited-icon"})}).addTo(group);
        var item = element("li"), go = element("button", "gm-unvisited-go");
        go.type = "button";
        go.setAttribute("data-code", p.code);
        go.appendChild(element("span", "gm-unvisited-name", p.name));
        go.appendChild(element("span", "gm-unvisited-days", days));
        go.title = (p.village ? p.village + " · " : "") + p.name;
        go.addEventListener("click", function () {
          gridmap.fitScope(map, shape.getBounds());
          shape.eachLayer(function (layer) { layer.openPopup(); });
        });
        item.appendChild(go);
        list.appendChild(item);
      });
      panel.setAttribute("data-unvisited", String(collection.features.length));
      container.setAttribute("data-unvisited", String(collection.features.length));
    }).catch(function (error) {
      container.setAttribute("data-unvisited", "failed");
      showProblem(map, labels.load_failed);
      if (window.console) console.error("gridmap: " + error.message);
    });
  }

  /* ---- Appeals: unresolved issues, coloured by traffic light, marked by stage. ---- */
  function appealIcon(config, p) {
    var light = p.light || "none";
    var mark = element("span", "gm-appeal gm-appeal-" + light + (p.overdue ? " gm-appeal-overdue" : ""),
      (p.overdue ? "!" : "") + (config.labels.stage_marks[p.status] || ""));
    return L.divIcon({html: mark, iconSize: null,
                      className: "gm-appeal-icon" + (p.overdue ? " gm-appeal-icon-overdue" : "")});
  }

  function appealPopup(config, p) {
    var labels = config.labels;
    var box = popupBox(p.code, labels.lights[p.light] || "");
    var table = document.createElement("table");
    row(table, labels.stage, labels.stages[p.status] || p.status);
    if (p.due) row(table, labels.due, p.due);
    box.appendChild(table);
    var more = element("p", "gm-popup-note", labels.loading);
    box.appendChild(more);
    var link = element("a", "gm-popup-link", labels.open_issue);
    link.href = config.issue_url.replace(/0$/, String(p.id));
    fetch(config.issue_api_url.replace(/0$/, String(p.id)),
          {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        more.textContent = body.issue.title;
        more.className = "gm-popup-issue-title";
      })
      .catch(function () { more.textContent = ""; });
    box.appendChild(link);
    return box;
  }

  function clusterIcon(cluster) {
    var children = cluster.getAllChildMarkers(), overdue = 0;
    children.forEach(function (marker) { if (marker.options.overdue) overdue += 1; });
    var box = element("span", "gm-cluster-count", String(children.length));
    // Where clusters touch other marks, the one holding more overdue, then more, appeals stays.
    box.setAttribute("data-weight", String(overdue * 10000 + children.length));
    if (overdue) box.appendChild(element("span", "gm-cluster-overdue-count", "!" + overdue));
    return L.divIcon({html: box, iconSize: null,
      className: "gm-cluster" + (overdue ? " gm-cluster-overdue" : "")});
  }

  function mountAppeals(map, config, control, refreshMarks) {
    if (!config.appeals_url) return;
    var container = map.getContainer();
    var group = L.markerClusterGroup
      ? L.markerClusterGroup({iconCreateFunction: clusterIcon, maxClusterRadius: 60,
                              showCoverageOnHover: false, disableClusteringAtZoom: 15})
      : L.layerGroup();
    control.addOverlay(group, config.labels.layers.appeals);
    // Clusters move until their animation ends: their neighbours give way after it.
    group.on("animationend spiderfied unspiderfied", refreshMarks);
    group.addTo(map);
    function draw(collection) {
      group.clearLayers();
      var markers = collection.features.map(function (feature) {
        var p = feature.properties, c = feature.geometry.coordinates;
        var marker = L.marker([c[1], c[0]], {icon: appealIcon(config, p), overdue: !!p.overdue,
          title: p.code + " · " + (config.labels.stages[p.status] || "") + " · " + (config.labels.lights[p.light] || ""),
          zIndexOffset: p.overdue ? 1000 : 0});
        marker.bindPopup(function () { return appealPopup(config, p); },
          {maxWidth: 320, minWidth: 220, autoPanPadding: [24, 24]});
        return marker;
      });
      function show(list) {
        if (group.addLayers) group.addLayers(list);
        else list.forEach(function (m) { m.addTo(group); });
        container.setAttribute("data-appeals", String(list.length));
      }
      show(markers);
    }
    var latest = 0;
    function load(query) {
      var mine = (latest += 1);
      // The count shown stays until the filtered one arrives (data-appeals-filtering says so).
      if (mine === 1) container.setAttribute("data-appeals", "loading");
      else container.setAttribute("data-appeals-filtering", "1");
      return fetchLayer(config.appeals_url + (query ? "?" + query : "")).then(function (body) {
        if (mine !== latest) return;  // an answer to an older choice is dropped
        draw(body);
        container.removeAttribute("data-appeals-filtering");
      });
    }
    // Filters in the appeals legend: the layer endpoint applies them (bounded queries).
    var legend = document.querySelector(".gm-appeals-legend");
    if (legend) {
      var inputs = legend.querySelectorAll("[data-appeals-filter]");
      var refilter = function () {
        var query = [];
        Array.prototype.forEach.call(inputs, function (input) {
          var name = input.getAttribute("data-appeals-filter");
          var value = input.type === "checkbox" ? (input.checked ? "1" : "") : input.value;
          if (value) query.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
        });
        load(query.join("&")).catch(failed);
      };
      Array.prototype.forEach.call(inputs, function (input) {
        input.addEventListener("change", refilter);
      });
    }
    function failed(error) {
      container.setAttribute("data-appeals", "failed");
      showProblem(map, config.labels.load_failed);
      if (window.console) console.error("gridmap: " + error.message);
    }
    load("").catch(failed);
  }

  /* ---- 挂牌 targets: each place outlined by its state, a badge naming the state in words
     (超期 when past its deadline, with a dashed outline), a popup linking to the target. ---- */
  function targetPopup(config, p) {
    var labels = config.labels, words = labels.targets;
    var box = popupBox(p.name || "", words.kinds[p.kind] || "");
    var table = document.createElement("table");
    row(table, labels.status, words.statuses[p.status] || p.status);
    row(table, words.due_on, p.due_on + (p.overdue ? " · " + words.overdue : ""));
    box.appendChild(table);
    var link = element("a", "gm-popup-link", words.open);
    link.href = config.target_url.replace(/0$/, String(p.id));
    box.appendChild(link);
    return box;
  }

  function targetIcon(config, p) {
    var words = config.labels.targets;
    var mark = element("span", "gm-target gm-target-" + p.status + (p.overdue ? " gm-target-overdue" : ""),
      p.overdue ? "! " + words.overdue : (words.statuses[p.status] || p.status));
    return L.divIcon({html: mark, iconSize: null,
                      className: "gm-target-icon" + (p.overdue ? " gm-target-icon-overdue" : "")});
  }

  function mountTargets(map, config, control) {
    if (!config.targets_url) return;
    var container = map.getContainer(), styles = config.target_styles;
    var group = L.layerGroup();
    control.addOverlay(group, config.labels.layers.targets);
    group.addTo(map);
    container.setAttribute("data-targets", "loading");
    fetchLayer(config.targets_url).then(function (collection) {
      var overdue = 0;
      L.geoJSON(collection, {style: function (feature) {
        var p = feature.properties;
        return extend(p.overdue ? styles.overdue : styles[p.status],
                      {className: "gm-target-shape gm-target-shape-" + p.status + (p.overdue ? " gm-target-shape-overdue" : "")});
      }, onEachFeature: function (feature, shape) {
        var p = feature.properties;
        if (p.overdue) overdue += 1;
        var marker = L.marker(shape.getBounds().getCenter(), {icon: targetIcon(config, p),
          title: (p.name || "") + " · " + (config.labels.targets.statuses[p.status] || ""),
          zIndexOffset: p.overdue ? 900 : {close_requested: 700, listed: 600}[p.status] || 300,
          keyboard: true});
        marker.bindPopup(function () { return targetPopup(config, p); },
          {maxWidth: 320, minWidth: 200, autoPanPadding: [24, 24]});
        marker.addTo(group);
      }}).addTo(group);
      container.setAttribute("data-targets", String(collection.features.length));
      container.setAttribute("data-targets-overdue", String(overdue));
    }).catch(function (error) {
      container.setAttribute("data-targets", "failed");
      showProblem(map, config.labels.load_failed);
      if (window.console) console.error("gridmap: " + error.message);
    });
  }

  /* ---- Roll-ups: townships, villages or grids coloured by one figure, drill-down by click. ---- */
  function rangeLabel(labels, kind, c) {
    if (kind === "count" && c.lower === 0 && c.upper === 0) return labels.zero;
    if (kind !== "rate" && c.lower === c.upper) {
      return (kind === "days" ? labels.days_range : labels.count_range)
        .replace(/%\(lower\)s\S*%\(upper\)s/, c.lower.toLocaleString("zh-CN"));
    }
    var phrase = kind === "rate" ? labels.percent_range : kind === "days" ? labels.days_range
      : labels.count_range;
    return phrase.replace("%(lower)s", c.lower.toLocaleString("zh-CN"))
      .replace("%(upper)s", c.upper.toLocaleString("zh-CN")).replace("%%", "%");
  }

  function measureLegend(box, labels, measure, classes, opacity, withheld) {
    var title = box.querySelector(".gm-legend-title"), list = box.querySelector("ul");
    title.textContent = measure.label;
    var toggleName = box.querySelector(".gm-legend-toggle-name");
    if (toggleName) toggleName.textContent = measure.label;
    while (list.firstChild) list.removeChild(list.firstChild);
    var rows = classes.map(function (c) { return [rangeLabel(labels, measure.kind, c), c.color]; });
    if (measure.kind !== "count") rows.push([labels.no_value, NO_VALUE]);
    // Care counts under 5 are withheld from this role: their regions have a class of their own.
    if (withheld) rows.unshift([labels.suppressed_class, SUPPRESSED]);
    rows.forEach(function (r) {
      var item = element("li"), swatch = element("span", "gm-swatch gm-fill");
      swatch.style.background = r[1];
      swatch.style.opacity = String(opacity);
      item.appendChild(swatch);
      item.appendChild(element("span", null, r[0]));
      list.appendChild(item);
    });
  }

  var NO_VALUE = "#f8f9fa", SUPPRESSED = "#bdc1c6";

  function mountChoropleth(map, config, layers, state, legendBox) {
    if (!config.measures || !config.measures.length || !config.rollup_url) return;
    var container = map.getContainer(), labels = config.labels, styles = config.styles;
    if (!legendBox) return;
    // The choice sits at the top of the legend it recolours.
    var originalTitle = legendBox.querySelector(".gm-legend-title").textContent;
    var originalRows = legendBox.querySelector("ul").cloneNode(true);
    var label = element("label", "gm-measure-label");
    label.appendChild(element("span", null, labels.colour_by));
    var select = element("select");
    select.setAttribute("data-measure", "");
    var plain = element("option", null, labels.layers.grid);
    plain.value = "";
    select.appendChild(plain);
    config.measures.forEach(function (m) {
      var option = element("option", null, m.label);
      option.value = m.key;
      select.appendChild(option);
    });
    label.appendChild(select);
    var toggle = legendBox.querySelector(".gm-legend-toggle");
    legendBox.insertBefore(label, toggle ? toggle.nextSibling : legendBox.firstChild);
    var hint = element("div", "gm-legend-note gm-measure-hint", labels.zoom_in);
    hint.hidden = true;
    legendBox.appendChild(hint);
    var classes = {}, latest = 0;

    function activeLevel() {
      var level = labelledLevel(map.getZoom(), config.label_zooms);
      var levels = state.measure ? state.measure.levels : [];
      if (levels.indexOf(level) < 0) level = levels[levels.length - 1];
      return level;
    }
    function fill(level, code, context) {
      if (context) return null;
      if (state.suppressed[level] && state.suppressed[level][code]) return SUPPRESSED;
      var value = state.values[level] ? state.values[level][code] : undefined;
      if (value === undefined) {
        if (state.measure.kind !== "count") return NO_VALUE;
        value = 0;
      }
      return classColor(classes[level], value);
    }
    function restyle() {
      ["township", "village", "grid"].forEach(function (level) {
        container.classList.remove("gm-active-" + level);
      });
      if (!state.measure) {
        container.removeAttribute("data-choropleth");
        layers.grid.setStyle(function (feature) {
          return extend(styles.grid, {fillColor: classColor(config.classes, feature.properties.households)});
        });
        ["township", "village"].forEach(function (level) { layers[level].setStyle(styles.hit_area); });
        return;
      }
      var active = activeLevel();
      container.classList.add("gm-active-" + active);
      ["township", "village"].forEach(function (level) {
        layers[level].setStyle(function (feature) {
          var color = level === active ? fill(level, feature.properties.code, feature.properties.context) : null;
          return extend(styles.hit_area, color ? {fillColor: color, fillOpacity: styles.grid.fillOpacity} : {});
        });
      });
      layers.grid.setStyle(function (feature) {
        var color = active === "grid" ? fill("grid", feature.properties.code, false) : null;
        return extend(styles.grid, color ? {fillColor: color} : {fillOpacity: 0});
      });
      var withheld = state.suppressed[active] && Object.keys(state.suppressed[active]).length > 0;
      measureLegend(legendBox, labels, state.measure, classes[active], styles.grid.fillOpacity, withheld);
      hint.hidden = active === "grid";
      container.setAttribute("data-choropleth", state.measure.key + ":" + active);
    }
    function choose(key) {
      var mine = (latest += 1);
      var measure = null;
      config.measures.forEach(function (m) { if (m.key === key) measure = m; });
      if (!measure) {
        state.measure = null; state.values = {}; state.suppressed = {};
        legendBox.querySelector(".gm-legend-title").textContent = originalTitle;
        var toggleName = legendBox.querySelector(".gm-legend-toggle-name");
        if (toggleName) toggleName.textContent = originalTitle;
        legendBox.replaceChild(originalRows.cloneNode(true), legendBox.querySelector("ul"));
        hint.hidden = true;
        restyle();
        return;
      }
      container.setAttribute("data-choropleth", "loading");
      Promise.all(measure.levels.map(function (level) {
        var url = config.rollup_url.replace(/township\.json$/, level + ".json") + "?measure=" + encodeURIComponent(key);
        return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
          .then(function (response) {
            if (!response.ok) throw new Error(url + ": HTTP " + response.status);
            return response.json();
          });
      })).then(function (bodies) {
        if (mine !== latest) return;
        state.measure = measure; state.values = {}; state.suppressed = {};
        bodies.forEach(function (body) {
          state.values[body.level] = body.values;
          classes[body.level] = body.classes;
          var withheld = {};
          (body.suppressed || []).forEach(function (code) { withheld[code] = true; });
          state.suppressed[body.level] = withheld;
        });
        restyle();
      }).catch(function (error) {
        container.setAttribute("data-choropleth", "failed");
        showProblem(map, labels.load_failed);
        if (window.console) console.error("gridmap: " + error.message);
      });
    }
    select.addEventListener("change", function () { choose(select.value); });
    map.on("zoomend", function () { if (state.measure) restyle(); });
    // Drill-down: a township or village tapped opens onto its next level.
    ["township", "village"].forEach(function (level) {
      layers[level].on("click", function (event) {
        if (!state.measure || event.layer.feature.properties.context) return;
        map.closePopup();  // the next level's colours say more than the popup would
        gridmap.fitScope(map, event.layer.getBounds());
      });
    });
  }

  /* ---- Heatmaps: counts per cell (the server leaves out cells under 5), by leaflet.heat. ---- */
  function mountHeats(map, config, control) {
    if (!L.heatLayer || !config.heats) return;
    var container = map.getContainer();
    config.heats.forEach(function (heat) {
      var group = L.layerGroup(), loaded = false;
      control.addOverlay(group, config.labels.heat + " · " + heat.label);
      map.on("overlayadd", function (event) {
        if (event.layer !== group || loaded) return;
        loaded = true;
        container.setAttribute("data-heat-" + heat.kind, "loading");
        fetch(heat.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
          .then(function (response) {
            if (!response.ok) throw new Error(heat.url + ": HTTP " + response.status);
            return response.json();
          })
          .then(function (body) {
            var top = 1;
            body.cells.forEach(function (cell) { top = Math.max(top, cell[2]); });
            // Orange to dark red: apart from the grids' blues and greens underneath.
            L.heatLayer(body.cells, {radius: 30, blur: 20, max: top, minOpacity: 0.45,
              gradient: {0.2: "#fed976", 0.45: "#fd8d3c", 0.7: "#e31a1c", 1: "#67000d"}}).addTo(group);
            container.setAttribute("data-heat-" + heat.kind, String(body.cells.length));
          })
          .catch(function (error) {
            loaded = false;
            container.setAttribute("data-heat-" + heat.kind, "failed");
            if (window.console) console.error("gridmap: " + error.message);
          });
      });
    });
  }

  /* An outlined icon (24×24 paths) for a control button. */
  var SVG = "http://www.w3.org/2000/svg";
  function icon(paths) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "26");
    svg.setAttribute("height", "26");
    svg.setAttribute("aria-hidden", "true");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      svg.appendChild(path);
    });
    return svg;
  }

  /* ---- Search: one box, /api/search; a hit moves the map there. On phones and in portrait
     it folds into a button beside the zoom, so the county keeps the screen. ---- */
  function mountSearch(map, config, folded) {
    if (!config.search_url) return;
    var labels = config.labels;
    var control = L.control({position: "topleft"});
    var form = element("form", "gm-search");
    form.setAttribute("role", "search");
    var input = element("input");
    input.type = "search";
    input.name = "q";
    input.maxLength = 50;
    input.placeholder = labels.search;
    input.setAttribute("aria-label", labels.search);
    var button = element("button", null, labels.search_button);
    button.type = "submit";
    var results = element("ul", "gm-search-results");
    results.setAttribute("aria-live", "polite");
    var open = element("button", "gm-search-open");
    open.type = "button";
    open.title = labels.search_button;
    open.setAttribute("aria-label", labels.search_button);
    open.appendChild(icon(["M10 4a6 6 0 1 0 0.01 0z", "M14.5 14.5L20 20"]));
    open.addEventListener("click", function () {
      form.classList.remove("gm-search-folded");
      input.focus();
    });
    if (folded) form.classList.add("gm-search-folded");
    form.appendChild(open);
    form.appendChild(input);
    form.appendChild(button);
    form.appendChild(results);
    control.onAdd = function () {
      L.DomEvent.disableClickPropagation(form);
      L.DomEvent.disableScrollPropagation(form);
      return form;
    };
    control.addTo(map);
    function go(hit) {
      if (!hit.bounds) return;
      var b = hit.bounds;
      if (b[0][0] === b[1][0] && b[0][1] === b[1][1]) map.setView(b[0], 16);
      else gridmap.fitScope(map, b);
      map.getContainer().setAttribute("data-search-went", hit.code);
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      while (results.firstChild) results.removeChild(results.firstChild);
      if (!text) return;
      fetch(config.search_url + "?q=" + encodeURIComponent(text),
            {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          if (!body.hits.length) { results.appendChild(element("li", "gm-search-none", labels.search_none)); return; }
          body.hits.forEach(function (hit) {
            var item = element("li"), link = element("button", "gm-search-hit");
            link.type = "button";
            link.appendChild(element("span", "gm-search-kind", labels.hit_kinds[hit.kind] || hit.kind));
            link.appendChild(element("span", "gm-search-name", hit.name));
            if (hit.context) link.appendChild(element("span", "gm-search-context", hit.context));
            link.setAttribute("data-code", hit.code);
            link.addEventListener("click", function () {
              go(hit);
              while (results.firstChild) results.removeChild(results.firstChild);
            });
            item.appendChild(link);
            results.appendChild(item);
          });
          if (body.hits.length === 1) go(body.hits[0]);
        })
        .catch(function () { results.appendChild(element("li", "gm-search-none", labels.search_failed)); });
    });
  }

  /* ---- Print and locate: two buttons under the zoom. ---- */
  function mountTools(map, labels) {
    var control = L.control({position: "topleft"});
    var bar = element("div", "leaflet-bar gm-tools");
    function tool(text, className, paths, action) {
      var link = element("a", className);
      link.appendChild(icon(paths));
      link.href = "#";
      link.setAttribute("role", "button");
      link.title = text;
      link.setAttribute("aria-label", text);
      L.DomEvent.on(link, "click", function (event) { L.DomEvent.preventDefault(event); action(); });
      bar.appendChild(link);
    }
    tool(labels.print, "gm-print", ["M6 9V3h12v6", "M6 18H4v-8h16v8h-2", "M7 14h10v7H7z"],
         function () { window.print(); });
    tool(labels.locate, "gm-locate", ["M12 2v4M12 18v4M2 12h4M18 12h4",
                                      "M12 6a6 6 0 1 0 0.01 0z"],
         function () { map.locate({setView: true, maxZoom: 16}); });
    map.on("locationerror", function () { showProblem(map, labels.locate_failed); });
    // Printed, the map takes the page's size: keep what was on screen in view.
    function refit() {
      var shown = map.getBounds();
      map.invalidateSize();
      map.fitBounds(shown);
    }
    window.addEventListener("beforeprint", refit);
    if (window.matchMedia) {
      var print = window.matchMedia("print");
      if (print.addEventListener) print.addEventListener("change", refit);
    }
    control.onAdd = function () { L.DomEvent.disableClickPropagation(bar); return bar; };
    control.addTo(map);
  }

  /* The county map: the page's JSON block says where the layers are and how to draw them;
     Folium made the map and its empty groups (see gridmap.maps.county). */
  gridmap.mountCountyMap = function (map, groups) {
    var config = JSON.parse(document.getElementById("gm-map-config").textContent);
    var choropleth = {measure: null, values: {}, suppressed: {}};
    var popup = gridmap.popup(config.labels, choropleth, config.trend_url), styles = config.styles;
    var container = map.getContainer();
    // The layer switch folds into its button on phones, in portrait (the legends need the
    // room) and on screens too short for it and the legends in one column (1024x768, and
    // 1920x1080: open, it pushed the 挂牌 legend under the grids' one).
    var phone = window.matchMedia && window.matchMedia(
      "(max-width: 600px), (max-height: 1100px), (orientation: portrait)").matches;

    map.attributionControl.setPrefix(false);
    var refreshMarks = gridmap.declutter(map);
    var control = L.control.layers(null, null, {collapsed: phone, position: "topright"});
    ["township", "village", "grid"].forEach(function (level) {
      control.addOverlay(groups[level], config.labels.layers[level]);
    });
    control.addTo(map);
    L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
    var legendBox = addLegend(map, "gm-legend", "bottomright");
    mountSearch(map, config, window.matchMedia && window.matchMedia(
      "(max-width: 600px), (orientation: portrait)").matches);
    mountTools(map, config.labels);
    addLegend(map, "gm-appeals-legend", portrait(map) ? "bottomright" : "topright");
    // Under the appeals' legend (the left-hand column holds the gaps and the grids longest
    // unvisited); on short screens its rows go two by two.
    var targetsLegend = addLegend(map, "gm-targets-legend", portrait(map) ? "bottomright" : "topright");
    // Where the right-hand column is taller than the map (a short screen under a two-row top
    // bar), the 挂牌 legend folds to its button rather than cover the one below it.
    function foldCrowded() {
      if (!targetsLegend || targetsLegend.classList.contains("gm-legend-foldable")) return;
      var right = cornerSize(container, "top right").y + cornerSize(container, "bottom right").y;
      if (right + 20 > map.getSize().y) foldable(targetsLegend, "gm-targets-legend");
    }
    mountGaps(map, config);
    if (config.bounds) gridmap.fitScope(map, config.bounds);
    // An opened popup pans clear of the control columns (popups sit under the controls).
    function popupPadding() {
      var box = map.getContainer(), wide = map.getSize().x >= map.getSize().y;
      var left = cornerSize(box, "top left"), right = cornerSize(box, "top right");
      L.Popup.prototype.options.autoPanPaddingTopLeft = wide ? [left.x + 16, 16] : [16, left.y + 16];
      L.Popup.prototype.options.autoPanPaddingBottomRight = wide ? [right.x + 16, 16] : [16, 16];
    }
    popupPadding();
    map.on("resize", popupPadding);

    var levels = ["county", "township", "village", "grid"];
    var labelGroups = {township: L.layerGroup(), village: L.layerGroup(), grid: L.layerGroup()};
    function relabel() {
      var level = labelledLevel(map.getZoom(), config.label_zooms);
      Object.keys(labelGroups).forEach(function (name) {
        if (name === level && map.hasLayer(groups[name])) labelGroups[name].addTo(map);
        else map.removeLayer(labelGroups[name]);
      });
    }
    var layers = {};
    container.setAttribute("data-layers", "loading");
    Promise.all(levels.map(function (level) { return fetchLayer(config.layer_urls[level]); }))
      .then(function (loaded) {
        var collections = {};
        levels.forEach(function (level, i) { collections[level] = loaded[i]; });
        ["township", "village"].forEach(function (level) {
          // A tap target under the grids, the outline above them.
          layers[level] = L.geoJSON(collections[level], {pane: "gm-regions", onEachFeature: popup,
            style: function () { return extend(styles.hit_area, {className: "gm-hit-" + level}); }})
            .addTo(groups[level]);
          L.geoJSON(collections[level], {pane: "gm-boundaries", interactive: false,
            style: function () { return styles[level]; }}).addTo(groups[level]);
        });
        // The county's outline, always shown: what the map is of.
        L.geoJSON(collections.county, {pane: "gm-boundaries", interactive: false,
          style: function () { return styles.county; }}).addTo(map);
        layers.grid = L.geoJSON(collections.grid, {onEachFeature: popup, style: function (feature) {
          return extend(styles.grid, {className: "gm-grid-shape",
                                      fillColor: classColor(config.classes, feature.properties.households)});
        }}).addTo(groups.grid);
        mountChoropleth(map, config, layers, choropleth, legendBox);
        foldCrowded();
        Object.keys(labelGroups).forEach(function (level) { addLabels(labelGroups[level], collections[level]); });
        relabel();
        map.on("zoomend overlayadd overlayremove", relabel);
        container.setAttribute("data-layers", "loaded");
      })
      .catch(function (error) {
        container.setAttribute("data-layers", "failed");
        showProblem(map, config.labels.load_failed);
        if (window.console) console.error("gridmap: " + error.message);
      });
    mountAppeals(map, config, control, refreshMarks);
    mountTargets(map, config, control);
    mountHeats(map, config, control);
  };
})();
