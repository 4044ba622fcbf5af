// A small map to pick the place: no library and no tile server needed. The view is a
// Web Mercator window at zoom 17 around the chosen point (or the municipality's
// default); with MACHI_REQUESTS_MAP_TILE_URL set, tiles are drawn under a grid,
// otherwise the grid alone shows. Clicking (or the arrow keys and Enter) sets the
// latitude and longitude inputs, which work without script too.
(function () {
  "use strict";
  var map = document.getElementById("rq-map");
  var lat = document.getElementById("id_lat");
  var lon = document.getElementById("id_long");
  var locate = document.getElementById("rq-locate");
  var status = document.getElementById("rq-locate-status");
  if (!map || !lat || !lon) return;
  var ZOOM = 17, TILE = 256, SIZE = 768;
  var tileUrl = map.dataset.tileUrl || "";
  var center = { lat: parseFloat(lat.value) || 35.6812, lon: parseFloat(lon.value) || 139.7671 };
  var picked = lat.value && lon.value ? { lat: parseFloat(lat.value), lon: parseFloat(lon.value) } : null;

  function world(p) {
    var s = Math.sin(p.lat * Math.PI / 180), n = TILE * Math.pow(2, ZOOM);
    return { x: (p.lon + 180) / 360 * n, y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n };
  }
  function unworld(x, y) {
    var n = TILE * Math.pow(2, ZOOM), lonv = x / n * 360 - 180;
    var m = Math.PI - 2 * Math.PI * y / n;
    return { lat: 180 / Math.PI * Math.atan(0.5 * (Math.exp(m) - Math.exp(-m))), lon: lonv };
  }
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 " + SIZE + " " + SIZE);
  svg.setAttribute("focusable", "false");
  map.appendChild(svg);
  map.tabIndex = 0;

  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var c = world(center), ox = c.x - SIZE / 2, oy = c.y - SIZE / 2;
    if (tileUrl) {
      for (var tx = Math.floor(ox / TILE); tx * TILE < ox + SIZE; tx++) {
        for (var ty = Math.floor(oy / TILE); ty * TILE < oy + SIZE; ty++) {
          var img = document.createElementNS(NS, "image");
          img.setAttribute("href", tileUrl.replace("{z}", ZOOM).replace("{x}", tx).replace("{y}", ty));
          img.setAttribute("x", tx * TILE - ox); img.setAttribute("y", ty * TILE - oy);
          img.setAttribute("width", TILE); img.setAttribute("height", TILE);
          svg.appendChild(img);
        }
      }
    }
    for (var i = 0; i <= SIZE; i += 64) {
      [["x1", i, "y1", 0, "x2", i, "y2", SIZE], ["x1", 0, "y1", i, "x2", SIZE, "y2", i]].forEach(function (a) {
        var l = document.createElementNS(NS, "line");
        for (var k = 0; k < a.length; k += 2) l.setAttribute(a[k], a[k + 1]);
        l.setAttribute("class", "rq-grid");
        svg.appendChild(l);
      });
    }
    if (picked) {
      var p = world(picked), m = document.createElementNS(NS, "circle");
      m.setAttribute("cx", p.x - ox); m.setAttribute("cy", p.y - oy); m.setAttribute("r", 12);
      m.setAttribute("class", "rq-marker");
      svg.appendChild(m);
    }
  }
  function pick(p) {
    picked = p;
    lat.value = p.lat.toFixed(6); lon.value = p.lon.toFixed(6);
    draw();
  }
  svg.addEventListener("click", function (e) {
    var r = svg.getBoundingClientRect(), c = world(center);
    var x = c.x - SIZE / 2 + (e.clientX - r.left) * SIZE / r.width;
    var y = c.y - SIZE / 2 + (e.clientY - r.top) * SIZE / r.height;
    pick(unworld(x, y));
  });
  map.addEventListener("keydown", function (e) {
    var step = { ArrowUp: [0, -32], ArrowDown: [0, 32], ArrowLeft: [-32, 0], ArrowRight: [32, 0] }[e.key];
    var c = world(center);
    if (step) { center = unworld(c.x + step[0], c.y + step[1]); draw(); e.preventDefault(); }
    else if (e.key === "Enter") { pick(center); e.preventDefault(); }
  });
  [lat, lon].forEach(function (input) {
    input.addEventListener("change", function () {
      var a = parseFloat(lat.value), b = parseFloat(lon.value);
      if (isFinite(a) && isFinite(b)) { picked = center = { lat: a, lon: b }; draw(); }
    });
  });
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = locate.dataset.wait || "…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        center = { lat: pos.coords.latitude, lon: pos.coords.longitude };
        pick(center);
        status.textContent = locate.dataset.done || "";
      }, function () {
        status.textContent = locate.dataset.fail || "";
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
  map.hidden = false;
  draw();
})();
