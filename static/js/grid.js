// The progress grid and the learner's checklist (no inline script: the CSP forbids it).
// - the grid is one Tab stop: arrow keys move between its boxes and buttons (a roving tabindex),
//   Home/End go to the start/end of a row, Ctrl+Home/Ctrl+End to the first/last box; Space ticks;
// - "Tick all" ticks a learner's row or a competency's column here (without JavaScript the same
//   buttons ask the server to draw the page again with them ticked);
// - leaving the page with unsaved ticks asks first;
// - the confirmation before undoing achievements takes the focus, so it is read out first.
(function () {
  "use strict";

  function focusOnLoad() {
    var target = document.querySelector("[data-focus-on-load]");
    if (target) {
      target.focus();
    }
  }

  function unsavedWarning(form) {
    var note = form.querySelector("[data-unsaved-note]");
    var submitting = false;
    var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox]"));
    function dirty() {
      if (form.hasAttribute("data-unsaved")) {
        return true;
      }
      return boxes.some(function (box) {
        return box.checked !== box.defaultChecked;
      });
    }
    function update() {
      if (note) {
        note.hidden = !dirty();
      }
    }
    form.addEventListener("change", update);
    form.addEventListener("grid:changed", update);
    form.addEventListener("submit", function () {
      submitting = true;
    });
    window.addEventListener("beforeunload", function (event) {
      if (!submitting && dirty()) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    update();
  }

  function roving(table) {
    // rows[r][c] = the focusable controls of cell c of row r (header row of competencies first).
    var trs = [table.tHead.rows[table.tHead.rows.length - 1]].concat(Array.prototype.slice.call(table.tBodies[0].rows));
    var rows = trs.map(function (tr) {
      return Array.prototype.map.call(tr.cells, function (cell) {
        return Array.prototype.slice.call(cell.querySelectorAll("a[href], button, input[type=checkbox]:not([disabled])"));
      });
    });
    var all = [];
    rows.forEach(function (cells, r) {
      cells.forEach(function (controls, c) {
        controls.forEach(function (control, i) {
          control.setAttribute("tabindex", "-1");
          control.dataset.gridPos = r + "," + c + "," + i;
          all.push(control);
        });
      });
    });
    var first = table.querySelector("tbody input[type=checkbox]:not([disabled])") || all[0];
    if (!first) {
      return;
    }
    first.setAttribute("tabindex", "0");
    function move(to) {
      if (!to) {
        return;
      }
      all.forEach(function (control) {
        control.setAttribute("tabindex", control === to ? "0" : "-1");
      });
      to.focus();
      if (to.scrollIntoView) {
        to.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    }
    function firstIn(r, c, step) {
      // The first control of cell (r, c), or of the next cell along that has one (step: +1/-1).
      for (var col = c; col >= 0 && rows[r] && col < rows[r].length; col += step) {
        if (rows[r][col].length) {
          return rows[r][col][step > 0 ? 0 : rows[r][col].length - 1];
        }
      }
      return null;
    }
    function vertical(r, c, step) {
      for (var row = r + step; row >= 0 && row < rows.length; row += step) {
        if (rows[row][c] && rows[row][c].length) {
          return rows[row][c][0];
        }
      }
      return null;
    }
    table.addEventListener("focusin", function (event) {
      if (event.target.dataset.gridPos) {
        all.forEach(function (control) {
          control.setAttribute("tabindex", control === event.target ? "0" : "-1");
        });
      }
    });
    table.addEventListener("keydown", function (event) {
      var pos = event.target.dataset.gridPos;
      if (!pos) {
        return;
      }
      var p = pos.split(",").map(Number);
      var r = p[0], c = p[1], i = p[2];
      var controls = rows[r][c];
      var to = null;
      switch (event.key) {
        case "ArrowRight":
          to = i + 1 < controls.length ? controls[i + 1] : firstIn(r, c + 1, 1);
          break;
        case "ArrowLeft":
          to = i > 0 ? controls[i - 1] : firstIn(r, c - 1, -1);
          break;
        case "ArrowDown":
          to = vertical(r, c, 1);
          break;
        case "ArrowUp":
          to = vertical(r, c, -1);
          break;
        case "Home":
          to = event.ctrlKey ? first : firstIn(r, 0, 1);
          break;
        case "End":
          to = event.ctrlKey ? all[all.length - 1] : firstIn(r, rows[r].length - 1, -1);
          break;
        default:
          return;
      }
      event.preventDefault();
      move(to);
    });
  }

  function tickAll(form) {
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-tick-row], [data-tick-column]");
      if (!button) {
        return;
      }
      event.preventDefault();
      var boxes;
      if (button.hasAttribute("data-tick-row")) {
        boxes = form.querySelectorAll("tr[data-row='" + button.getAttribute("data-tick-row") + "'] input[type=checkbox]");
      } else {
        boxes = form.querySelectorAll("input[type=checkbox][name=tick][value$='-" + button.getAttribute("data-tick-column") + "']");
      }
      Array.prototype.forEach.call(boxes, function (box) {
        if (!box.disabled) {
          box.checked = true;
        }
      });
      form.dispatchEvent(new CustomEvent("grid:changed"));
    });
  }

  function start() {
    focusOnLoad();
    Array.prototype.forEach.call(document.querySelectorAll("[data-progress-form]"), function (form) {
      unsavedWarning(form);
      tickAll(form);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-progress-grid]"), roving);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
