/* Live visible_if / required_if: a small interpreter of Expression.to_json() trees.
 *
 * It follows the server's rules (runtime/expressions/evaluator.py): arithmetic with
 * null gives null, `=` treats null as a value, ordering comparisons with null are
 * false, and/or/not/if count null as false. Anything it does not know (a function,
 * a field of a linked record) throws; the field is then shown and not marked
 * required — the server re-checks every condition on submit either way.
 */
(function () {
  "use strict";

  function Unsupported(message) { this.message = message; }

  function kindOf(value) {
    if (value === null || value === undefined) return "null";
    if (typeof value === "boolean") return "boolean";
    if (typeof value === "number") return "number";
    if (typeof value === "string") return "text";
    if (Array.isArray(value)) return "list";
    return "record";
  }

  function truth(value) {
    if (value === null || value === undefined) return false;
    if (typeof value === "boolean") return value;
    throw new Unsupported("not a condition");
  }

  function equal(a, b) {
    if (a === null || a === undefined || b === null || b === undefined) {
      return (a === null || a === undefined) && (b === null || b === undefined);
    }
    if (kindOf(a) !== kindOf(b)) return false;
    if (Array.isArray(a)) return a.length === b.length && a.every(function (x, i) { return equal(x, b[i]); });
    return a === b;
  }

  function order(op, a, b) {
    if (a === null || a === undefined || b === null || b === undefined) return false;
    if (kindOf(a) !== kindOf(b)) throw new Unsupported("cannot compare");
    if (op === "<") return a < b;
    if (op === "<=") return a <= b;
    if (op === ">") return a > b;
    return a >= b;
  }

  function arithmetic(op, a, b) {
    if (op === "&") return text(a) + text(b);
    if (a === null || a === undefined || b === null || b === undefined) return null;
    if (typeof a !== "number" || typeof b !== "number") throw new Unsupported("not numbers");
    switch (op) {
      case "+": return a + b;
      case "-": return a - b;
      case "*": return a * b;
      case "/": if (b === 0) throw new Unsupported("division by zero"); return a / b;
      case "%": if (b === 0) throw new Unsupported("division by zero"); return ((a % b) + b) % b;
      case "^": return Math.pow(a, b);
    }
    throw new Unsupported("operator " + op);
  }

  function text(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "boolean") return value ? "true" : "false";
    if (Array.isArray(value)) return value.map(text).join(", ");
    if (typeof value === "object") throw new Unsupported("record as text");
    return String(value);
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function today() { var d = new Date(); return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function now() { var d = new Date(); return today() + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }

  function present(values) { return values.filter(function (v) { return v !== null && v !== undefined; }); }

  /* Functions receive thunks (so if/coalesce stay lazy); null in gives null out unless marked. */
  var FUNCTIONS = {
    "if": { lazy: true, fn: function (c, a, b) { return truth(c()) ? a() : b(); } },
    "coalesce": { lazy: true, fn: function () {
      for (var i = 0; i < arguments.length; i++) { var v = arguments[i](); if (v !== null && v !== undefined) return v; }
      return null;
    } },
    "is_blank": { nulls: true, fn: function (v) { return v === null || v === undefined || ((typeof v === "string" || Array.isArray(v)) && v.length === 0); } },
    "contains": { fn: function (t, p) { return t.indexOf(p) !== -1; } },
    "startswith": { fn: function (t, p) { return t.indexOf(p) === 0; } },
    "endswith": { fn: function (t, p) { return t.length >= p.length && t.slice(t.length - p.length) === p; } },
    "len": { fn: function (t) { return t.length; } },
    "upper": { fn: function (t) { return t.toUpperCase(); } },
    "lower": { fn: function (t) { return t.toLowerCase(); } },
    "trim": { fn: function (t) { return t.trim(); } },
    "left": { fn: function (t, n) { return t.slice(0, Math.max(0, n)); } },
    "right": { fn: function (t, n) { return n <= 0 ? "" : t.slice(-n); } },
    "abs": { fn: Math.abs },
    "floor": { fn: Math.floor },
    "ceil": { fn: Math.ceil },
    "round": { fn: function (x, digits) { var f = Math.pow(10, digits || 0); return Math.round(x * f) / f; } },
    "min": { nulls: true, fn: function () { var v = present([].slice.call(arguments)); return v.length ? v.reduce(function (a, b) { return b < a ? b : a; }) : null; } },
    "max": { nulls: true, fn: function () { var v = present([].slice.call(arguments)); return v.length ? v.reduce(function (a, b) { return b > a ? b : a; }) : null; } },
    "concat": { nulls: true, fn: function () { return [].slice.call(arguments).map(text).join(""); } },
    "text": { fn: text },
    "number": { fn: function (v) { var n = Number(String(v).trim()); if (!isFinite(n)) throw new Unsupported("number"); return n; } },
    "today": { fn: today },
    "now": { fn: now },
    "year": { fn: function (d) { return Number(d.slice(0, 4)); } },
    "month": { fn: function (d) { return Number(d.slice(5, 7)); } },
    "day": { fn: function (d) { return Number(d.slice(8, 10)); } },
    "has_role": { fn: function (role, scope) { return ((scope.current_user || {}).roles || []).indexOf(role) !== -1; }, scope: true }
  };

  function call(node, scope) {
    var spec = FUNCTIONS[node["function"]];
    if (!spec) throw new Unsupported("function " + node["function"]);
    var args = node.args || [];
    if (spec.lazy) {
      return spec.fn.apply(null, args.map(function (arg) { return function () { return evaluate(arg, scope); }; }));
    }
    var values = args.map(function (arg) { return evaluate(arg, scope); });
    if (!spec.nulls && values.some(function (v) { return v === null || v === undefined; })) return null;
    if (spec.scope) values.push(scope);
    return spec.fn.apply(null, values);
  }

  function lookup(scope, path) {
    var current = scope;
    for (var i = 0; i < path.length; i++) {
      if (current === null || current === undefined) return null;
      if (typeof current !== "object" || !(path[i] in current)) throw new Unsupported("unknown name " + path.join("."));
      current = current[path[i]];
    }
    return current === undefined ? null : current;
  }

  function binary(node, scope) {
    var op = node.op, args = node.args;
    if (op === "and") return truth(evaluate(args[0], scope)) ? truth(evaluate(args[1], scope)) : false;
    if (op === "or") return truth(evaluate(args[0], scope)) ? true : truth(evaluate(args[1], scope));
    var a = evaluate(args[0], scope), b = evaluate(args[1], scope);
    if (op === "in" || op === "not in") {
      if (b === null || b === undefined) return op === "not in";
      if (!Array.isArray(b)) throw new Unsupported("in needs a list");
      var found = b.some(function (item) { return equal(a, item); });
      return op === "in" ? found : !found;
    }
    if (op === "=") return equal(a, b);
    if (op === "!=") return !equal(a, b);
    if (op === "<" || op === "<=" || op === ">" || op === ">=") return order(op, a, b);
    return arithmetic(op, a, b);
  }

  function evaluate(node, scope) {
    switch (node.kind) {
      case "literal":
        return node.type === "number" && typeof node.value === "string" ? Number(node.value) : node.value;
      case "name": return lookup(scope, node.path);
      case "list": return (node.args || []).map(function (arg) { return evaluate(arg, scope); });
      case "unary":
        var value = evaluate(node.args[0], scope);
        if (node.op === "not") return !truth(value);
        if (value === null || value === undefined) return null;
        if (typeof value !== "number") throw new Unsupported("negate");
        return -value;
      case "binary": return binary(node, scope);
      case "call": return call(node, scope);
    }
    throw new Unsupported("node " + node.kind);
  }

  /* true/false, or `fallback` when the tree cannot be evaluated here. */
  function test(tree, scope, fallback) {
    if (!tree) return fallback;
    try {
      var result = evaluate(tree.ast, scope);
      return result === true;
    } catch (error) {
      if (error instanceof Unsupported) return fallback;
      throw error;
    }
  }

  /* -- reading the form ---------------------------------------------------- */
  function inputValue(form, name, type) {
    var elements = [].slice.call(form.elements).filter(function (el) { return el.name === name; });
    if (!elements.length) return undefined;
    var first = elements[0];
    if (type === "list") {
      var chosen = elements.filter(function (el) { return el.checked; }).map(function (el) { return el.value; });
      return chosen.length ? chosen : null;
    }
    if (first.type === "checkbox") return first.checked;
    if (first.type === "radio") {
      var checked = elements.filter(function (el) { return el.checked; })[0];
      return checked ? checked.value : null;
    }
    var raw = String(first.value || "").trim();
    if (raw === "") return null;
    if (type === "number") {
      var number = Number(raw.replace(/[,_]/g, ""));
      return isFinite(number) ? number : null;
    }
    if (type === "record") return /^\d+$/.test(raw) ? { id: Number(raw) } : null;
    if (type === "boolean") return /^(true|1|yes|on)$/i.test(raw);
    return raw;
  }

  function readScope(form, spec) {
    var scope = Object.assign({}, spec.values || {});
    Object.keys(spec.types || {}).forEach(function (name) {
      var value = inputValue(form, name, spec.types[name]);
      if (value !== undefined) scope[name] = value;
    });
    scope.current_user = spec.current_user || {};
    return scope;
  }

  function bind(form, spec) {
    function update() {
      var scope = readScope(form, spec);
      Object.keys(spec.sections || {}).forEach(function (index) {
        var section = form.querySelector('[data-section="' + index + '"]');
        if (!section) return;
        var shown = test(spec.sections[index].visible, scope, true);
        section.hidden = !shown && !section.querySelector(".has-error");
      });
      Object.keys(spec.fields || {}).forEach(function (name) {
        var wrapper = form.querySelector('[data-field="' + name + '"]');
        if (!wrapper) return;
        var rules = spec.fields[name];
        var shown = test(rules.visible, scope, true);
        wrapper.hidden = !shown && !wrapper.classList.contains("has-error");
        wrapper.classList.toggle("required-now", shown && test(rules.required, scope, false));
      });
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
    return update;
  }

  window.TaktConditions = { evaluate: evaluate, test: test, bind: bind, Unsupported: Unsupported };

  document.querySelectorAll("form[data-conditions]").forEach(function (form) {
    var source = document.getElementById(form.getAttribute("data-conditions"));
    if (source) bind(form, JSON.parse(source.textContent));
  });
})();
