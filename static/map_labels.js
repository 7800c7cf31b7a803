/* gridmap map marks that would touch: the one that matters less gives way. Loaded before
   map.js; needs nothing but the DOM.

   Every name, badge and marker on the map is a Leaflet marker icon (a DOM box). After each
   zoom, move, resize or change of layers, their boxes on screen are read once, then placed
   from the most important down; a mark that touches one already placed is nudged the least
   distance that clears it (up, down or aside, never further than about its own size), and
   is hidden (class gm-crowded) when no nudge is free, until a later zoom or move leaves it
   room. Which level's names are drawn at
   all stays a matter of zoom (map.js, labelledLevel); this only thins what is drawn. */
(function () {
  "use strict";
  var gridmap = (window.gridmap = window.gridmap || {});

  /* Most important first; the first selector an icon matches gives its rank. Icons that match
     none are left alone. Alarms come first: overdue appeals, then the places no one answers
     for and the five grids longest unvisited (ahead of appeals on time, which a zoom shows);
     names give way to every badge, and 挂牌 badges to names (the target's outline stays, and
     its badge is back one zoom closer), except an overdue one. */
  var RANKS = [
    [".gm-cluster-overdue, .gm-appeal-icon-overdue", 100],  // overdue appeals, single or counted
    [".gm-gap-flag", 95],                                   // a village with no 包村 leader
    [".gm-gap-badge", 90],                                  // households in a gap, counted
    [".gm-unvisited-icon", 80],                             // the grids longest unvisited
    [".gm-cluster, .gm-appeal-icon", 70],                   // the other unresolved appeals
    [".gm-target-icon-overdue", 65],                        // a 挂牌 target past its deadline
    [".gm-label-township", 60],
    [".gm-label-village", 50],
    [".gm-label-grid", 40],
    [".gm-target-icon", 30]                                 // the other 挂牌 targets
  ];
  var WIDE = 96;  // px: a mark wider than this (a long name) is nudged up or down only
  var CELL = 64;  // px: the side of a bucket of the screen index
  var GAP = 1;    // px: boxes closer than this count as touching

  function rankOf(icon) {
    for (var i = 0; i < RANKS.length; i++) {
      if (icon.matches(RANKS[i][0])) return RANKS[i][1];
    }
    return null;
  }

  /* The shifts that would take `box` just clear of each box it touches, nearest first, no
     further than about its own size: a mark stays by the place it marks. */
  function nudges(box, blockers) {
    var out = [], clear = GAP + 1;
    var reachX = Math.min(box.width, WIDE) / 2 + 6, reachY = box.height + 6;
    blockers.forEach(function (b) {
      out.push([0, b.top - clear - box.bottom], [0, b.bottom + clear - box.top]);
      if (box.width <= WIDE) out.push([b.left - clear - box.right, 0], [b.right + clear - box.left, 0]);
    });
    return out.filter(function (shift) {
      return Math.abs(shift[0]) <= reachX && Math.abs(shift[1]) <= reachY;
    }).sort(function (a, b) {
      return Math.abs(a[0]) + Math.abs(a[1]) - Math.abs(b[0]) - Math.abs(b[1]);
    });
  }

  function shifted(box, dx, dy) {
    return {left: box.left + dx, right: box.right + dx, top: box.top + dy, bottom: box.bottom + dy,
            width: box.width, height: box.height};
  }

  /* The box a person sees: an icon's first child (icons are 0×0 anchors, their content is
     centred on the point by a transform), which may carry a data-weight. */
  function visibleBox(icon) {
    return (icon.firstElementChild || icon).getBoundingClientRect();
  }

  function touches(a, b) {
    return a.left < b.right + GAP && b.left < a.right + GAP && a.top < b.bottom + GAP && b.top < a.bottom + GAP;
  }

  /* A grid of buckets over the screen: a box is checked against the boxes placed in the
     buckets it covers, not against all of them. */
  function ScreenIndex() { this.cells = {}; }
  ScreenIndex.prototype.keys = function (box) {
    var keys = [];
    for (var x = Math.floor(box.left / CELL); x <= Math.floor(box.right / CELL); x++) {
      for (var y = Math.floor(box.top / CELL); y <= Math.floor(box.bottom / CELL); y++) keys.push(x + ":" + y);
    }
    return keys;
  };
  ScreenIndex.prototype.touching = function (box) {
    var keys = this.keys(box), out = [];
    for (var i = 0; i < keys.length; i++) {
      var placed = this.cells[keys[i]] || [];
      for (var j = 0; j < placed.length; j++) {
        if (touches(box, placed[j]) && out.indexOf(placed[j]) < 0) out.push(placed[j]);
      }
    }
    return out;
  };
  ScreenIndex.prototype.free = function (box) { return this.touching(box).length === 0; };
  ScreenIndex.prototype.add = function (box) {
    var keys = this.keys(box);
    for (var i = 0; i < keys.length; i++) (this.cells[keys[i]] = this.cells[keys[i]] || []).push(box);
  };

  /* Place the map's marks once, from the most important down; returns how many gave way. */
  function place(container) {
    var view = container.getBoundingClientRect(), marks = [], hidden = 0;
    Array.prototype.forEach.call(container.querySelectorAll(".leaflet-marker-icon"), function (icon, order) {
      var rank = rankOf(icon);
      if (rank === null) return;
      var shown = icon.firstElementChild || icon;
      // Measured where the last placing left it: back to its own spot first.
      var box = shifted(visibleBox(icon), -(Number(shown.getAttribute("data-shift-x")) || 0),
                        -(Number(shown.getAttribute("data-shift-y")) || 0));
      var onScreen = box.width > 0 && box.height > 0 && box.right > view.left && box.left < view.right
        && box.bottom > view.top && box.top < view.bottom;
      if (!onScreen) { show(icon, shown, [0, 0]); return; }
      marks.push({icon: icon, shown: shown, box: box, rank: rank, order: order,
                  weight: Number(shown.getAttribute("data-weight")) || 0});
    });
    // Within a rank: the heavier first (a cluster of more appeals, a higher-ranked grid),
    // then in drawing order, so the same view always thins the same way.
    marks.sort(function (a, b) { return b.rank - a.rank || b.weight - a.weight || a.order - b.order; });
    var placed = new ScreenIndex();
    marks.forEach(function (mark) {
      var blockers = placed.touching(mark.box);
      var tries = blockers.length ? nudges(mark.box, blockers) : [[0, 0]];
      for (var i = 0; i < tries.length; i++) {
        var box = shifted(mark.box, tries[i][0], tries[i][1]);
        if (!blockers.length || placed.free(box)) {
          placed.add(box);
          show(mark.icon, mark.shown, tries[i]);
          return;
        }
      }
      hidden += 1;
      show(mark.icon, mark.shown, null);
    });
    container.setAttribute("data-crowded", String(hidden));
    return hidden;
  }

  /* Show a mark shifted by `shift` ([dx, dy] px), or hide it (null). */
  function show(icon, shown, shift) {
    icon.classList.toggle("gm-crowded", !shift);
    var dx = shift ? shift[0] : 0, dy = shift ? shift[1] : 0;
    shown.style.translate = dx || dy ? dx + "px " + dy + "px" : "";
    shown.setAttribute("data-shift-x", String(dx));
    shown.setAttribute("data-shift-y", String(dy));
  }

  /* Keep `map`'s marks apart from now on. Returns refresh(), for changes the map does not
     announce (a cluster group's animation ending). Places once on the next frame, then once
     more when things have been still for SETTLE ms (clusters glide to their places by CSS
     transitions): data-marks on the map's element says "placing" until then, then "placed". */
  var SETTLE = 400;
  gridmap.declutter = function (map) {
    var container = map.getContainer(), frame = null, still = null;
    function refresh() {
      container.setAttribute("data-marks", "placing");
      if (frame === null) {
        frame = window.requestAnimationFrame(function () { frame = null; place(container); });
      }
      window.clearTimeout(still);
      still = window.setTimeout(function () {
        place(container);
        container.setAttribute("data-marks", "placed");
      }, SETTLE);
    }
    map.on("zoomend moveend resize layeradd layerremove", refresh);
    // Marker cluster groups also move clusters without an event of the map's (when a cluster's
    // place is recomputed): any mark added, removed or moved counts (our own nudges, made on
    // a mark's inner element, do not).
    if (window.MutationObserver) {
      new MutationObserver(function (records) {
        for (var i = 0; i < records.length; i++) {
          if (records[i].type === "childList" || records[i].target.classList.contains("leaflet-marker-icon")) {
            refresh();
            return;
          }
        }
      }).observe(map.getPanes().mapPane, {childList: true, subtree: true, attributes: true,
                                            attributeFilter: ["style"]});
    }
    refresh();
    return refresh;
  };
  gridmap.declutter.RANKS = RANKS;
  gridmap.declutter.place = place;
})();
