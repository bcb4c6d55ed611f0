// The hall's screen (/draws/{id}/live): a countdown to the beacon round's
// time, and a live update on each server-sent event: the changing part of
// the page is fetched again from /draws/{id}/live/fragment. Without
// JavaScript the page refreshes itself every 10 seconds (<noscript>).
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) return;
  var id = encodeURIComponent(root.getAttribute("data-draw"));
  var key = root.getAttribute("data-key");

  function countdown() {
    var el = document.getElementById("countdown");
    if (!el) return;
    var left = parseInt(el.getAttribute("data-at"), 10) - Math.floor(Date.now() / 1000);
    if (!(left > 0)) { el.textContent = "信标已产生"; return; }
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = "倒计时 " + (h > 0 ? h + " 小时 " : "") + m + " 分 " + s + " 秒";
  }
  countdown();
  setInterval(countdown, 1000);

  // Long lists of admitted children stay on the hall's screen: each list is
  // given the height left below it (less the box's padding and margins)
  // and scrolls through slowly, pausing at
  // both ends, so a 300-seat school never pushes the page past 1080 px.
  function fit() {
    var boxes = document.querySelectorAll(".live-scroll");
    for (var i = 0; i < boxes.length; i++) {
      var b = boxes[i];
      var top = b.getBoundingClientRect().top + window.pageYOffset;
      b.style.maxHeight = Math.max(160, window.innerHeight - top - 64) + "px";
      b.setAttribute("data-fit", "1");
    }
  }
  var pause = 0;
  function step() {
    var boxes = document.querySelectorAll(".live-scroll");
    if (pause > 0) { pause--; return; }
    for (var i = 0; i < boxes.length; i++) {
      var b = boxes[i];
      if (b.scrollHeight <= b.clientHeight) continue;
      if (b.scrollTop + b.clientHeight >= b.scrollHeight - 1) { b.scrollTop = 0; pause = 60; }
      else b.scrollTop += 1;
    }
  }
  fit();
  window.addEventListener("resize", fit);
  setInterval(step, 50);

  if (!window.EventSource || !window.fetch) return;
  var busy = false, wanted = null;
  function refresh(next) {
    wanted = next;
    if (busy) return;
    busy = true;
    var target = next;
    fetch("/draws/" + id + "/live/fragment", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        root.innerHTML = html;
        key = target;
        root.setAttribute("data-key", key);
        countdown();
        fit();
      })
      .catch(function () {})
      .then(function () { busy = false; if (wanted !== target) refresh(wanted); });
  }
  var es = new EventSource("/draws/" + id + "/events");
  es.addEventListener("state", function (e) {
    var d;
    try { d = JSON.parse(e.data); } catch (x) { return; }
    if (d.key !== key) refresh(d.key);
  });
})();
