// Keeps "3 min ago" current between live refreshes; the exact time stays in the title.
(function () {
  function span(seconds) {
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "");
    var days = Math.floor(hours / 24);
    return days + " d" + (hours % 24 ? " " + (hours % 24) + " h" : "");
  }
  function refresh() {
    document.querySelectorAll("time[datetime]").forEach(function (node) {
      var seconds = Math.round((Date.now() - Date.parse(node.getAttribute("datetime"))) / 1000);
      if (isNaN(seconds)) return;
      node.textContent = Math.abs(seconds) < 10 ? "just now"
        : seconds >= 0 ? span(seconds) + " ago" : "in " + span(-seconds);
    });
  }
  setInterval(refresh, 15000);
})();

// The agent page's log follows its newest entry: it opens scrolled to the end and, when
// the live region is refreshed, stays at the end if the reader was there; a reader who
// scrolled up to read keeps their place.
(function () {
  var follow = true, kept = 0;
  function log() { return document.querySelector("ol.log[data-follow]"); }
  function atEnd(node) { return node.scrollHeight - node.scrollTop - node.clientHeight < 24; }
  function place(node) { node.scrollTop = follow ? node.scrollHeight : kept; }
  document.addEventListener("htmx:beforeSwap", function () {
    var node = log();
    if (node) { follow = atEnd(node); kept = node.scrollTop; }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var node = log();
    if (node) place(node);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var node = log();
    if (node) { follow = true; place(node); }
  });
})();
