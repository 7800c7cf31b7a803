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
  gridmap.popup = function (labels) {
    return function (feature, layer) {
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
        box.appendChild(table);
        return box;
      }, {maxWidth: 320, minWidth: 200, autoPanPadding: [24, 24]});
    };
  };

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
      padBottomRight = [gap, bottomRight.y + gap];
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
      var name = document.createElement("span");
      name.textContent = p.name;
      L.marker([lonlat[1], lonlat[0]], {
        interactive: false, keyboard: false,
        icon: L.divIcon({html: name, iconSize: [0, 0], className: "gm-label gm-label-" + p.level})
      }).addTo(group);
    });
  }

  /* The most detailed level with at most `limit` shapes of the scope's own. */
  function labelledLevel(collections, limit) {
    var levels = ["grid", "village", "township"];
    for (var i = 0; i < levels.length; i++) {
      var own = collections[levels[i]].features.filter(function (f) { return !f.properties.context; });
      if (own.length > 0 && own.length <= limit) return levels[i];
    }
    return null;
  }

  function fetchLayer(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
      .then(function (response) {
        if (!response.ok) throw new Error(url + ": HTTP " + response.status);
        return response.json();
      });
  }

  function showProblem(map, message) {
    var box = document.createElement("div");
    box.className = "gm-empty gm-load-failed";
    box.setAttribute("role", "alert");
    box.textContent = message;
    map.getContainer().parentNode.appendChild(box);
  }

  /* The county map: the page's JSON block says where the layers are and how to draw them;
     Folium made the map and its empty groups (see gridmap.maps.county). */
  gridmap.mountCountyMap = function (map, groups) {
    var config = JSON.parse(document.getElementById("gm-map-config").textContent);
    var popup = gridmap.popup(config.labels), styles = config.styles;
    var container = map.getContainer();

    L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
    var legendTemplate = document.getElementById("gm-legend");
    if (legendTemplate && legendTemplate.content.firstElementChild) {
      var legend = L.control({position: "bottomright"});
      legend.onAdd = function () {
        var box = legendTemplate.content.firstElementChild.cloneNode(true);
        L.DomEvent.disableClickPropagation(box);
        return box;
      };
      legend.addTo(map);
    }
    if (config.bounds) gridmap.fitScope(map, config.bounds);

    var levels = ["township", "village", "grid"];
    container.setAttribute("data-layers", "loading");
    Promise.all(levels.map(function (level) { return fetchLayer(config.layer_urls[level]); }))
      .then(function (loaded) {
        var collections = {};
        levels.forEach(function (level, i) { collections[level] = loaded[i]; });
        ["township", "village"].forEach(function (level) {
          // A tap target under the grids, the outline above them.
          L.geoJSON(collections[level], {pane: "gm-regions", onEachFeature: popup,
            style: function () { return styles.hit_area; }}).addTo(groups[level]);
          L.geoJSON(collections[level], {pane: "gm-boundaries", interactive: false,
            style: function () { return styles[level]; }}).addTo(groups[level]);
        });
        L.geoJSON(collections.grid, {onEachFeature: popup, style: function (feature) {
          return extend(styles.grid, {fillColor: classColor(config.classes, feature.properties.households)});
        }}).addTo(groups.grid);
        var labelled = labelledLevel(collections, config.label_limit);
        if (labelled) addLabels(groups[labelled], collections[labelled]);
        container.setAttribute("data-layers", "loaded");
      })
      .catch(function (error) {
        container.setAttribute("data-layers", "failed");
        showProblem(map, config.labels.load_failed);
        if (window.console) console.error("gridmap: " + error.message);
      });
  };
})();
