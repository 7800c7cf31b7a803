// The navigation's menus (<details class="nav-menu">): one open at a time; a click elsewhere
// or Escape closes it. Without this file the menus still open and close by themselves.
(function () {
  "use strict";
  var menus = document.querySelectorAll(".nav-menu");
  function closeAll(except) {
    menus.forEach(function (menu) { if (menu !== except) { menu.open = false; } });
  }
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () { if (menu.open) { closeAll(menu); } });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".nav-menu")) { closeAll(null); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = document.querySelector(".nav-menu[open]");
      if (open) { open.open = false; open.querySelector("summary").focus(); }
    }
  });
})();
