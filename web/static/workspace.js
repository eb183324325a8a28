// Conveniences for the advanced search form and the analyst workspace. Every page works without this
// file: it only adds rows in place, removes rows, inserts #n into the query box and counts a selection.
(function () {
  "use strict";

  function renumber(row, n) {
    row.dataset.row = String(n);
    row.querySelectorAll("[name]").forEach(function (el) {
      el.name = el.name.replace(/\d+$/, String(n));
    });
    row.querySelectorAll("[aria-label]").forEach(function (el) {
      el.setAttribute("aria-label", el.getAttribute("aria-label").replace(/第 \d+ 行/, "第 " + n + " 行"));
    });
  }

  function setupAdvanced(form) {
    var rows = form.querySelector(".adv-rows");
    var count = form.querySelector(".adv-row-count");
    var add = form.querySelector(".adv-add");
    var max = parseInt(form.dataset.maxRows || "10", 10);

    function allRows() { return rows.querySelectorAll(".adv-row"); }

    function syncMatch(row) {
      // Fields such as DOI or report numbers are matched exactly only.
      var field = row.querySelector(".adv-field");
      var match = row.querySelector(".adv-match");
      if (!field || !match) { return; }
      var option = field.options[field.selectedIndex];
      var fuzzyOk = !option || option.dataset.fuzzy !== "0";
      Array.prototype.forEach.call(match.options, function (o) {
        if (o.value === "fuzzy") { o.disabled = !fuzzyOk; }
      });
      if (!fuzzyOk) { match.value = "exact"; }
    }

    function refresh() {
      var list = allRows();
      list.forEach(function (row, i) {
        renumber(row, i + 1);
        var remove = row.querySelector(".adv-remove");
        if (remove) { remove.hidden = list.length <= 1; }
        syncMatch(row);
      });
      count.value = String(list.length);
      if (add) { add.disabled = list.length >= max; }
    }

    function addRow() {
      var list = allRows();
      if (list.length >= max) { return; }
      var last = list[list.length - 1];
      var row = last.cloneNode(true);
      var first = row.querySelector(".adv-op-first");
      if (first) {
        // The first row has no operator menu; borrow the one a second row would have.
        var template = list.length > 1 ? list[1].querySelector("select.adv-op") : null;
        var op;
        if (template) {
          op = template.cloneNode(true);
        } else {
          op = document.createElement("select");
          op.className = "adv-op";
          op.setAttribute("aria-label", "第 2 行与前面条件的关系");
          [["AND", "AND 并且"], ["OR", "OR 或者"], ["NOT", "NOT 不含"]].forEach(function (pair) {
            var o = document.createElement("option");
            o.value = pair[0];
            o.textContent = pair[1];
            op.appendChild(o);
          });
        }
        op.name = "op1";
        first.replaceWith(op);
      }
      row.querySelectorAll("select.adv-op").forEach(function (s) { s.value = "AND"; });
      var value = row.querySelector(".adv-value");
      value.value = "";
      value.removeAttribute("autofocus");
      rows.appendChild(row);
      refresh();
      value.focus();
    }

    if (add) {
      add.addEventListener("click", function (event) {
        event.preventDefault();
        addRow();
      });
    }
    rows.addEventListener("click", function (event) {
      var button = event.target.closest(".adv-remove");
      if (!button) { return; }
      var row = button.closest(".adv-row");
      if (allRows().length <= 1) { return; }
      var wasFirst = row === allRows()[0];
      row.remove();
      if (wasFirst) {
        // The new first row loses its operator: nothing comes before it.
        var op = allRows()[0].querySelector("select.adv-op");
        if (op) {
          var span = document.createElement("span");
          span.className = "adv-op adv-op-first";
          span.setAttribute("aria-hidden", "true");
          op.replaceWith(span);
        }
      }
      refresh();
    });
    rows.addEventListener("change", function (event) {
      if (event.target.classList.contains("adv-field")) { syncMatch(event.target.closest(".adv-row")); }
    });
    refresh();
  }

  function setupWorkspace() {
    var box = document.getElementById("ws-q");
    document.querySelectorAll(".insert-ref").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        if (!box) { return; }
        var ref = button.dataset.ref;
        var start = box.selectionStart, end = box.selectionEnd;
        var before = box.value.slice(0, start), after = box.value.slice(end);
        var pad = before && !/\s$/.test(before) ? " " : "";
        // A space after the reference too, so the analyst can type the operator straight away.
        var inserted = pad + ref + (/^\s/.test(after) ? "" : " ");
        box.value = before + inserted + after;
        var at = (before + inserted).length;
        box.focus();
        box.setSelectionRange(at, at);
      });
    });
    if (box) {
      // Ctrl+Enter submits the expression, as in most query consoles.
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          box.form.requestSubmit();
        }
      });
    }

    var selection = document.getElementById("selection");
    if (!selection) { return; }
    var boxes = document.querySelectorAll("input.select-record");
    var all = selection.querySelector(".select-all");
    var counter = selection.querySelector(".selected-count");
    var button = selection.querySelector(".export-selected");
    selection.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

    function update() {
      var n = 0;
      boxes.forEach(function (b) { if (b.checked) { n += 1; } });
      counter.querySelector("strong").textContent = String(n);
      button.disabled = n === 0;
      if (all) {
        all.checked = n > 0 && n === boxes.length;
        all.indeterminate = n > 0 && n < boxes.length;
      }
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        update();
      });
    }
    update();
  }

  document.querySelectorAll("form.adv-form").forEach(setupAdvanced);
  setupWorkspace();
})();
