// The rating page's scorecard, live (UX.md "Rating page"): the running total follows the levels
// the rater picks, and the justification box appears when every subjective level is the top one.
//
// Progressive enhancement only: without this script the form works the same — the total shown is
// the server's, the justification box is always there — and the server enforces every rule
// (`ratings::actions::submit_scorecard`). The total mirrors `ratings::domain::total`: a
// dimension's points = (level − 1) / 4 × 100, the level clamped to 1..5; the total =
// Σ weight × points / 100 over every dimension, a level not chosen counting as 1, in 0..100.
// Weights, kinds and the objective levels come from the rows' data attributes.
(function () {
  "use strict";

  var TOP = 5;

  function points(level) {
    if (!isFinite(level)) {
      level = 1;
    }
    level = Math.min(TOP, Math.max(1, level));
    return ((level - 1) / 4) * 100;
  }

  // Two decimals the way the server stores a total (`ratings::domain::stored`): the shortest
  // decimal that reads back as the same number, rounded half away from zero on its digits (not
  // on the binary value, where 90.825 * 100 is 9082.4999…).
  function twoDecimals(x) {
    var s = String(x);
    if (s.indexOf("e") >= 0) {
      // Only tiny values print with an exponent here (totals are within 0..100).
      return x >= 0.005 ? x.toFixed(2) : "0.00";
    }
    var parts = s.split(".");
    var frac = (parts[1] || "") + "000";
    var cents = parseInt(parts[0], 10) * 100 + parseInt(frac.slice(0, 2), 10);
    if (parseInt(frac.charAt(2), 10) >= 5) {
      cents += 1;
    }
    return Math.floor(cents / 100) + "." + String(100 + (cents % 100)).slice(1);
  }

  function setUp(form) {
    var rows = form.querySelectorAll("tr[data-dimension][data-weight]");
    var out = form.querySelector("[data-testid=running-total]");
    var box = form.querySelector("[data-justification]");

    function update() {
      var sum = 0;
      var subjective = 0;
      var top = 0;
      Array.prototype.forEach.call(rows, function (row) {
        var weight = parseFloat(row.getAttribute("data-weight")) || 0;
        var level;
        if (row.getAttribute("data-kind") === "objective") {
          level = parseFloat(row.getAttribute("data-level"));
        } else {
          subjective += 1;
          var checked = row.querySelector("input[type=radio]:checked");
          level = checked ? parseInt(checked.value, 10) : 1;
          if (level === TOP) {
            top += 1;
          }
        }
        sum += (weight * points(level)) / 100;
      });
      var total = Math.min(100, Math.max(0, sum));
      if (out) {
        out.textContent = twoDecimals(total);
      }
      if (box) {
        // Shown when every subjective level is the top one, or when the server asked for it.
        var allTop = subjective > 0 && top === subjective;
        box.hidden = !(allTop || box.classList.contains("has-error"));
      }
    }

    form.addEventListener("change", update);
    update();
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.scorecard"), setUp);
})();
