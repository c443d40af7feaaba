/* Record forms: link pickers with search-as-you-type, child-row grids, scanner-friendly
 * barcode fields (Enter moves on instead of submitting) and no double submits. */
(function () {
  "use strict";

  var DELAY_MS = 180;

  /* -- focus order ------------------------------------------------------------ */
  function focusables(form) {
    return [].slice.call(form.querySelectorAll("input, select, textarea, button")).filter(function (el) {
      return el.type !== "hidden" && !el.disabled && el.offsetParent !== null && !el.closest("template");
    });
  }

  function focusNext(input) {
    var list = focusables(input.form), index = list.indexOf(input);
    var next = list.slice(index + 1).filter(function (el) { return !el.matches("[data-grid-remove]"); })[0];
    if (next) { next.focus(); if (next.select && next.type === "text") next.select(); }
    return next;
  }

  /* -- link pickers ----------------------------------------------------------- */
  function picker(box) {
    var hidden = box.querySelector("[data-link-id]");
    var input = box.querySelector("[data-link-text]");
    var list = box.querySelector(".suggestions");
    var timer = null, active = -1, items = [], asked = 0;
    if (input.hasAttribute("data-scan")) return; // scan fields look up on Enter (kiosk.js), no dropdown

    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function choose(item) {
      hidden.value = item.id;
      input.value = item.text;
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function highlight(index) {
      active = index;
      [].forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      if (list.children[index]) input.setAttribute("aria-activedescendant", list.children[index].id);
    }
    function render(found) {
      items = found;
      list.textContent = "";
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = input.id + "-opt-" + i;
        li.setAttribute("role", "option");
        var strong = document.createElement("strong");
        strong.textContent = item.text;
        li.appendChild(strong);
        if (item.detail) { var span = document.createElement("span"); span.textContent = " " + item.detail; li.appendChild(span); }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(item); });
        list.appendChild(li);
      });
      list.hidden = !found.length;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      highlight(found.length ? 0 : -1);
    }
    function search() {
      var ticket = ++asked;
      var url = box.getAttribute("data-lookup-url") + "?q=" + encodeURIComponent(input.value.trim());
      window.Takt.request(url).then(function (result) {
        if (ticket === asked && result.ok && Array.isArray(result.data)) render(result.data);
      }).catch(function () { /* offline: typing a code still works, the server resolves it */ });
    }
    input.addEventListener("input", function () {
      hidden.value = "";
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
    input.addEventListener("focus", function () { if (!hidden.value) { clearTimeout(timer); timer = setTimeout(search, DELAY_MS); } });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, items.length - 1)); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter" && items[active]) { event.preventDefault(); choose(items[active]); focusNext(input); }
      else if (event.key === "Escape") { close(); }
    });
  }

  /* -- child-row grids --------------------------------------------------------- */
  function grid(box) {
    var body = box.querySelector("[data-grid-rows]");
    var template = box.querySelector("[data-grid-template]");
    var next = body.children.length;
    box.querySelector("[data-grid-add]").addEventListener("click", function () {
      var html = template.innerHTML.replace(/__i__/g, String(next++));
      body.insertAdjacentHTML("beforeend", html);
      var first = body.lastElementChild.querySelector("input, select");
      if (first) first.focus();
    });
    box.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-grid-remove]");
      if (!remove) return;
      var row = remove.closest("tr");
      var form = row.closest("form");
      row.remove();
      if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  /* -- forms -------------------------------------------------------------------- */
  function form(el) {
    el.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && target.matches("[data-scan]") && !el.hasAttribute("data-kiosk")) {
        event.preventDefault(); // a scanner's Enter ends the code; it must not submit the form
        focusNext(target);
      }
    });
    el.addEventListener("submit", function () {
      var buttons = el.querySelectorAll("button[type=submit], button:not([type])");
      setTimeout(function () { [].forEach.call(buttons, function (b) { b.disabled = true; }); }, 0);
    });
    window.addEventListener("pageshow", function () {
      [].forEach.call(el.querySelectorAll("button"), function (b) { b.disabled = false; });
    });
    var invalid = el.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); }
  }

  document.querySelectorAll(".link-picker").forEach(picker);
  document.querySelectorAll("[data-grid]").forEach(grid);
  document.querySelectorAll("form.record-form, form.kiosk-form").forEach(form);
  window.TaktForms = { focusNext: focusNext, focusables: focusables };
})();
