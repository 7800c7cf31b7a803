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
})();
