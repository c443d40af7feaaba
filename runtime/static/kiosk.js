/* Kiosk mode: a station bound from ?station= (remembered in localStorage), scanner
 * input (code + Enter) looked up without submitting the form, the scanned record's
 * summary and workflow buttons, big green/red banners and an optional beep. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-kiosk]");
  if (!form) return;
  var banner = document.querySelector("[data-banner]");
  var panel = document.querySelector("[data-scan-result]");
  var hint = document.querySelector("[data-scan-hint]");
  var text = JSON.parse((document.getElementById("kiosk-text") || {}).textContent || "{}");
  var stationKey = form.getAttribute("data-station-key");
  var SOUND_KEY = "takt.kiosk.sound";
  var audio = null;

  /* -- station ----------------------------------------------------------------- */
  function withStation(station) {
    var url = new URL(window.location.href);
    url.searchParams.set("station", station);
    return url.toString();
  }

  function bindStation() {
    var url = new URL(window.location.href);
    var station = (url.searchParams.get("station") || "").trim();
    var picker = document.querySelector("[data-station-picker]");
    var input = document.getElementById("station-input");
    if (station) {
      try { localStorage.setItem(stationKey, station); } catch (e) { /* private mode */ }
    } else {
      var remembered = null;
      try { remembered = localStorage.getItem(stationKey); } catch (e) { /* private mode */ }
      if (remembered) { window.location.replace(withStation(remembered)); return false; }
      picker.hidden = false;
      input.focus();
    }
    document.querySelector("[data-station-form]").addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = input.value.trim();
      if (!chosen) return;
      try { localStorage.setItem(stationKey, chosen); } catch (e) { /* private mode */ }
      window.location.assign(withStation(chosen));
    });
    document.querySelector("[data-station-button]").addEventListener("click", function () {
      picker.hidden = false;
      input.focus();
      input.select();
    });
    return true;
  }

  /* -- sound and banners ------------------------------------------------------- */
  function soundOn() {
    try { return localStorage.getItem(SOUND_KEY) !== "off"; } catch (e) { return true; }
  }

  function showSoundState() {
    var button = document.querySelector("[data-sound-toggle]");
    var on = soundOn();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.querySelector("[data-sound-on]").hidden = !on;
    button.querySelector("[data-sound-off]").hidden = on;
    button.querySelector("[data-sound-waves]").style.display = on ? "" : "none";
  }

  function beep(kind) {
    if (!soundOn()) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      var tones = kind === "ok" ? [[880, 0, 0.12], [1320, 0.13, 0.12]] : [[220, 0, 0.35], [180, 0.4, 0.35]];
      tones.forEach(function (tone) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = kind === "ok" ? "sine" : "square";
        osc.frequency.value = tone[0];
        gain.gain.value = 0.15;
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(audio.currentTime + tone[1]);
        osc.stop(audio.currentTime + tone[1] + tone[2]);
      });
    } catch (e) { /* no audio on this device */ }
  }

  function say(kind, message) {
    banner.className = "banner " + kind;
    banner.textContent = message;
    banner.hidden = false;
    beep(kind);
  }

  /* -- the scanned record ------------------------------------------------------- */
  function lookupInput() {
    var name = form.getAttribute("data-lookup-field");
    var wrapper = name ? form.querySelector('[data-field="' + name + '"]') : null;
    return wrapper ? wrapper.querySelector("[data-scan]") : form.querySelector("[data-scan]");
  }

  function renderRecord(record) {
    panel.querySelector("[data-record-table]").textContent = record.table_label;
    var title = panel.querySelector("[data-record-title]");
    title.textContent = record.title;
    title.href = record.url;
    var state = panel.querySelector("[data-record-state]");
    state.hidden = !record.state;
    if (record.state) {
      state.textContent = record.state.label;
      if (record.state.color) state.style.setProperty("--badge", record.state.color);
    }
    var fields = panel.querySelector("[data-record-fields]");
    fields.textContent = "";
    record.fields.forEach(function (pair) {
      var div = document.createElement("div"), dt = document.createElement("dt"), dd = document.createElement("dd");
      div.className = "pair";
      dt.textContent = pair[0];
      dd.textContent = pair[1] || "—";
      div.appendChild(dt);
      div.appendChild(dd);
      fields.appendChild(div);
    });
    var buttons = panel.querySelector("[data-record-transitions]");
    buttons.textContent = "";
    record.transitions.forEach(function (t) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "primary huge transition";
      button.setAttribute("data-transition", t.name);
      button.textContent = t.label;
      button.addEventListener("click", function () { runTransition(button, t, record); });
      buttons.appendChild(button);
    });
    panel.hidden = false;
    if (hint) hint.hidden = true;
  }

  function runTransition(button, transition, record) {
    button.disabled = true;
    var body = new URLSearchParams({ version: String(record.version) });
    window.Takt.request(transition.url, {
      method: "POST", body: body, headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (result) {
      if (result.ok && result.data.ok) {
        say("ok", result.data.message);
        renderRecord(result.data.record);
      } else {
        say("bad", (result.data && (result.data.message || result.data.error)) || text.failed);
        button.disabled = false;
      }
      var input = lookupInput();
      if (input) input.focus();
    }).catch(function () { say("bad", text.offline); button.disabled = false; });
  }

  function scan(input, quiet) {
    var code = input.value.trim();
    if (!code) return;
    var box = input.closest(".link-picker");
    var hidden = box ? box.querySelector("[data-link-id]") : null;
    var url = form.getAttribute("data-scan-url") + "?code=" + encodeURIComponent(code);
    window.Takt.request(url).then(function (result) {
      var data = result.data || {};
      if (result.ok && data.ok) {
        if (hidden && data.link) { hidden.value = data.link.id; input.value = data.link.text; }
        renderRecord(data.record);
        if (!quiet) {
          say("ok", text.found + ": " + data.message);
          window.TaktForms.focusNext(input);
        }
        form.dispatchEvent(new Event("change", { bubbles: true }));
      } else {
        if (hidden) hidden.value = "";
        panel.hidden = true;
        if (hint) hint.hidden = false;
        if (!quiet) {
          say("bad", data.message || data.error || text.failed);
          input.focus();
          input.select();
        }
      }
    }).catch(function () { if (!quiet) say("bad", text.offline); });
  }

  /* -- keys: a scanner types the code and Enter ---------------------------------- */
  function onKeydown(event) {
    var target = event.target;
    if (event.key !== "Enter" || !target.form || target.form !== form) return;
    if (target.tagName === "TEXTAREA" || target.tagName === "BUTTON") return;
    event.preventDefault(); // Enter never submits the kiosk form: only the Save button does
    if (target === lookupInput()) { scan(target, false); return; }
    var next = window.TaktForms.focusNext(target);
    if (!next) form.querySelector("[data-kiosk-save]").focus();
  }

  /* Keys typed while nothing editable has focus (the operator tapped the background)
     go to the scan field, so a scan is never lost. */
  function catchStrayKeys(event) {
    var active = document.activeElement;
    var editing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
    if (event.key === " " && active && active.tagName === "BUTTON") return;
    if (editing || event.ctrlKey || event.altKey || event.metaKey || event.key.length !== 1) return;
    var input = lookupInput();
    if (input && !document.querySelector("[data-station-picker]:not([hidden])")) input.focus();
  }

  function start() {
    if (!bindStation()) return;
    showSoundState();
    document.querySelector("[data-sound-toggle]").addEventListener("click", function () {
      try { localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on"); } catch (e) { /* private mode */ }
      showSoundState();
      if (soundOn()) beep("ok");
    });
    form.addEventListener("keydown", onKeydown);
    document.addEventListener("keydown", catchStrayKeys);
    form.addEventListener("submit", function () {
      var save = form.querySelector("[data-kiosk-save]");
      if (text.saving) save.textContent = text.saving;
    });
    var kind = banner.getAttribute("data-sound-on-load");
    if (kind) beep(kind);
    var input = lookupInput();
    if (input && input.value.trim()) scan(input, true);
    var invalid = form.querySelector("[aria-invalid=true]");
    var choosing = !document.querySelector("[data-station-picker]").hidden;
    if (choosing) document.getElementById("station-input").focus();
    else if (invalid) invalid.focus();
    else if (input && !input.value.trim()) input.focus();
  }

  start();
})();
