// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroom.js - the Cockpit page of coldroom-sensor: the rooms, the open
 * alarms, a unit's history and audit trail, the record's verification.
 *
 * Plain JavaScript over Cockpit's own cockpit.js, no build step. It speaks
 * the D-Bus API of daemon/coldroomd/DBUS-API.md through Cockpit's bridge,
 * which runs as the logged-in person: reading is open to every local user,
 * acknowledging is polkit's decision for that person. Every string from
 * the bus reaches the page as text (textContent), never as markup.
 */
"use strict";

const SENSORS = "org.coldroom.Sensors1";
const ROOT = "/org/coldroom/Sensors1";
const MANAGER = "org.coldroom.Sensors1.Manager";
const UNIT = "org.coldroom.Sensors1.Unit";
const RECORDER = "org.coldroom.Recorder1";
const RECORDER_PATH = "/org/coldroom/Recorder1";
const ROW_HEIGHT = 36; /* .list-row in coldroom.css */
const OVERSCAN = 8;
const MAX_PAGES = 200; /* a 7-day history of a 10 s interval is ~61 pages */

/* What the browser test and the benchmark read: when the list first showed
 * units (ms since the page was asked for), and what each Readings signal
 * cost (apply + render), in ms. */
const stats = window.coldroomStats = { firstRenderMs: null, units: 0, signals: 0, updateMs: [] };

const bus = cockpit.dbus(SENSORS, { bus: "system" });
const recorder = cockpit.dbus(RECORDER, { bus: "system" });

const units = new Map(); /* object path -> unit */
let byNumber = []; /* the Number of Readings -> unit */
let sorted = []; /* units by number */
let filtered = [];
let alarms = [];
let loaded = false;

function $(id) {
    return document.getElementById(id);
}

function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null)
        e.textContent = String(text);
    if (cls)
        e.className = cls;
    return e;
}

/* Cockpit's bridge sends "ay" as base64. */
function bytes(b64) {
    return b64 ? cockpit.base64_decode(b64, Uint8Array) : new Uint8Array(0);
}

function celsius(mdeg) {
    return (mdeg / 1000).toFixed(2) + "\u00a0°C";
}

function band(min, max) {
    if (min === undefined || max === undefined)
        return "";
    return (min / 1000).toFixed(1) + " … " + (max / 1000).toFixed(1) + "\u00a0°C";
}

const PROBE_STATUS = ["unknown", "", "no data", "disconnected"];

function reading(u, ch) {
    const status = ch === 1 ? u.st1 : u.st2;
    if (status === 1)
        return celsius(ch === 1 ? u.temp1 : u.temp2);
    return PROBE_STATUS[status] || "unknown";
}

function time(usec) {
    if (!usec)
        return "";
    return new Date(usec / 1000).toLocaleString("sv-SE").replace("T", " ");
}

/* One word a person filters by, and its colour. */
function unitState(u) {
    if (u.fwState === "failed")
        return ["firmware failed", "state-alarm"];
    if (u.fwState && u.fwState !== "ready")
        return ["firmware " + u.fwState, "state-warn"];
    if (u.alarms)
        return ["alarm", "state-alarm"];
    if (u.st1 === 3 || u.st2 === 3)
        return ["probe disconnected", "state-alarm"];
    if (u.st1 !== 1 || u.st2 !== 1)
        return ["no data", "state-muted"];
    return ["ok", "state-ok"];
}

function alarmText(u) {
    if (!u.alarms)
        return "—";
    return (u.alarms & 1 ? "probe 1" : "") + (u.alarms === 3 ? ", " : "") + (u.alarms & 2 ? "probe 2" : "");
}

function firmwareText(u) {
    if (u.fwState === "ready")
        return "ready " + (u.fwVersion || "");
    if (u.fwState === "failed")
        return "failed: " + (u.fwError || "");
    return u.fwState || "";
}

/* ---- the units: GetManagedObjects once, then signals ---- */

const PROPS = {
    Name: "name", Number: "number", Serial: "serial", Model: "model", Label: "label",
    Temp1: "temp1", Temp2: "temp2", Temp1Status: "st1", Temp2Status: "st2",
    Temp1Min: "min1", Temp1Max: "max1", Temp1Hyst: "hyst1",
    Temp2Min: "min2", Temp2Max: "max2", Temp2Hyst: "hyst2",
    UpdateIntervalMs: "interval", SampleSeq: "seq", LastUpdate: "last",
    FirmwareState: "fwState", FirmwareVersion: "fwVersion", FirmwareError: "fwError",
};

function applyProps(u, props) {
    for (const key in props) {
        if (key === "Temp1Alarm" || key === "Temp2Alarm") {
            const bit = key === "Temp1Alarm" ? 1 : 2;
            u.alarms = props[key].v ? (u.alarms | bit) : (u.alarms & ~bit);
        } else if (PROPS[key]) {
            u[PROPS[key]] = props[key].v;
        }
    }
}

function addUnit(path, props) {
    let u = units.get(path);
    if (!u) {
        u = { path, alarms: 0, st1: 0, st2: 0 };
        units.set(path, u);
    }
    applyProps(u, props);
}

function reindex() {
    sorted = Array.from(units.values()).sort((a, b) => a.number - b.number);
    byNumber = [];
    for (const u of sorted)
        if (u.number !== undefined)
            byNumber[u.number] = u;
    stats.units = sorted.length;
    refilter();
}

function loadUnits() {
    return bus.call(ROOT, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", [])
            .then(([objects]) => {
                units.clear();
                for (const path in objects)
                    if (objects[path][UNIT])
                        addUnit(path, objects[path][UNIT]);
                reindex();
                loaded = true;
                showProblem(null);
                render();
            });
}

function onReadings(args) {
    const t0 = performance.now();
    const [numbers, temp1, temp2] = args;
    const st1 = bytes(args[3]);
    const st2 = bytes(args[4]);
    const al = bytes(args[5]);
    const seq = args[6];
    const last = args[7];
    let stateChanged = false;
    for (let i = 0; i < numbers.length; i++) {
        const u = byNumber[numbers[i]];
        if (!u)
            continue;
        if (u.st1 !== st1[i] || u.st2 !== st2[i] || u.alarms !== al[i])
            stateChanged = true;
        u.temp1 = temp1[i];
        u.temp2 = temp2[i];
        u.st1 = st1[i];
        u.st2 = st2[i];
        u.alarms = al[i];
        u.seq = seq[i];
        u.last = last[i];
    }
    /* Only a state can move a unit in or out of a filter. */
    if (stateChanged)
        refilter();
    render();
    stats.signals++;
    stats.updateMs.push(performance.now() - t0);
    if (stats.updateMs.length > 1000)
        stats.updateMs.shift();
}

function subscribe() {
    bus.subscribe({ path: ROOT, interface: MANAGER, member: "Readings" },
                  (path, iface, signal, args) => onReadings(args));
    bus.subscribe({ interface: "org.freedesktop.DBus.Properties", member: "PropertiesChanged",
                    path_namespace: ROOT + "/unit" },
                  (path, iface, signal, args) => {
                      const u = units.get(path);
                      if (!u || args[0] !== UNIT)
                          return;
                      applyProps(u, args[1]);
                      refilter();
                      render();
                  });
    bus.subscribe({ path: ROOT, interface: "org.freedesktop.DBus.ObjectManager", member: "InterfacesAdded" },
                  (path, iface, signal, args) => {
                      if (args[1][UNIT]) {
                          addUnit(args[0], args[1][UNIT]);
                          reindex();
                          render();
                      }
                  });
    bus.subscribe({ path: ROOT, interface: "org.freedesktop.DBus.ObjectManager", member: "InterfacesRemoved" },
                  (path, iface, signal, args) => {
                      if (args[1].indexOf(UNIT) >= 0 && units.delete(args[0])) {
                          reindex();
                          render();
                      }
                  });
    bus.subscribe({ path: ROOT, interface: MANAGER, member: "AlarmChanged" },
                  () => scheduleAlarms());
}

/* ---- Rooms: a virtualised list ---- */

const viewport = $("rooms-viewport");
const spacer = $("rooms-spacer");
const pool = [];
let filterText = "";

function refilter() {
    if (!filterText) {
        filtered = sorted;
    } else {
        filtered = sorted.filter(u => {
            const hay = (u.name + " " + u.label + " " + u.serial + " " + unitState(u)[0]).toLowerCase();
            return hay.indexOf(filterText) >= 0;
        });
    }
    spacer.style.height = (filtered.length * ROW_HEIGHT) + "px";
    $("rooms-count").textContent = filterText
        ? filtered.length + " of " + sorted.length + " units"
        : sorted.length + " units";
    $("rooms-empty").hidden = !loaded || filtered.length > 0;
}

function makeRow() {
    const row = el("a", null, "list-row");
    row.setAttribute("role", "row");
    row.cells = [];
    for (let i = 0; i < 9; i++) {
        const c = el("span");
        if (i === 2 || i === 3)
            c.className = "num";
        row.appendChild(c);
        row.cells.push(c);
    }
    viewport.appendChild(row);
    return row;
}

function setCell(c, text, cls) {
    if (c.textContent !== text)
        c.textContent = text;
    if (cls !== undefined && c.className !== cls)
        c.className = cls;
}

function render() {
    if (currentScreen() !== "rooms")
        return;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const count = Math.ceil(viewport.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    while (pool.length < count)
        pool.push(makeRow());
    for (let k = 0; k < pool.length; k++) {
        const row = pool[k];
        const u = filtered[first + k];
        if (!u || k >= count) {
            row.hidden = true;
            continue;
        }
        row.hidden = false;
        row.style.transform = "translateY(" + ((first + k) * ROW_HEIGHT) + "px)";
        const href = "#/unit/" + encodeURIComponent(u.name);
        if (row.getAttribute("href") !== href)
            row.setAttribute("href", href);
        const [state, cls] = unitState(u);
        const c = row.cells;
        setCell(c[0], u.name);
        setCell(c[1], u.label || "");
        setCell(c[2], reading(u, 1), u.alarms & 1 ? "num state-alarm" : "num");
        setCell(c[3], reading(u, 2), u.alarms & 2 ? "num state-alarm" : "num");
        setCell(c[4], state, cls);
        setCell(c[5], band(u.min1, u.max1));
        setCell(c[6], band(u.min2, u.max2));
        setCell(c[7], alarmText(u), u.alarms ? "state-alarm" : "");
        setCell(c[8], firmwareText(u), u.fwState === "failed" ? "state-alarm" : "");
    }
    if (stats.firstRenderMs === null && filtered.length > 0)
        stats.firstRenderMs = performance.now();
}

viewport.addEventListener("scroll", () => window.requestAnimationFrame(render));
window.addEventListener("resize", () => window.requestAnimationFrame(render));
$("filter").addEventListener("input", ev => {
    filterText = ev.target.value.trim().toLowerCase();
    viewport.scrollTop = 0;
    refilter();
    render();
});

/* ---- Alarms ---- */

const ALARM_STATE = ["unknown", "raised", "acknowledged", "cleared", "closed"];
let alarmTimer = null;

function scheduleAlarms() {
    /* Several AlarmChanged in a burst: one ListAlarms. */
    if (alarmTimer === null)
        alarmTimer = window.setTimeout(() => { alarmTimer = null; loadAlarms() }, 200);
}

function loadAlarms() {
    return bus.call(ROOT, MANAGER, "ListAlarms", [])
            .then(([list]) => {
                alarms = list.map(a => ({
                    id: a[0], serial: a[1], unit: a[2], probe: a[3], state: a[4], level: a[5],
                    temp: a[6], raised: a[7], cleared: a[8], acknowledged: a[9],
                    by: a[11], comment: a[12], kind: a[13],
                }));
                renderAlarms();
            })
            .catch(ex => showProblem("The alarms cannot be read: " + ex.message));
}

function needsAck(a) {
    return a.state === 1 || a.state === 3;
}

function labelOf(unitName) {
    for (const u of sorted)
        if (u.name === unitName)
            return u.label || "";
    return "";
}

function renderAlarms() {
    const open = alarms.filter(needsAck).length;
    const badge = $("alarm-count");
    badge.hidden = open === 0;
    badge.textContent = String(open);

    const body = $("alarms-body");
    body.replaceChildren();
    for (const a of alarms) {
        const tr = el("tr");
        tr.dataset.serial = a.serial;
        tr.dataset.probe = String(a.probe);
        tr.appendChild(el("td", a.unit ? a.unit + " (" + a.serial + ")" : a.serial + " (gone)"));
        tr.appendChild(el("td", labelOf(a.unit)));
        tr.appendChild(el("td", a.probe));
        tr.appendChild(el("td", a.kind));
        tr.appendChild(el("td", ALARM_STATE[a.state] || a.state, needsAck(a) ? "state-alarm" : "state-warn"));
        tr.appendChild(el("td", a.level === 2 ? "escalated" : "notified"));
        tr.appendChild(el("td", a.kind === "temperature" ? celsius(a.temp) : "", "num"));
        tr.appendChild(el("td", time(a.raised), "time"));
        tr.appendChild(el("td", time(a.cleared), "time"));
        const ack = el("td");
        if (a.acknowledged) {
            ack.appendChild(el("div", time(a.acknowledged) + " by " + a.by));
            ack.appendChild(el("div", a.comment, "comment"));
        }
        tr.appendChild(ack);
        const act = el("td");
        if (needsAck(a)) {
            const b = el("button", "Acknowledge", "btn btn-secondary ack");
            b.type = "button";
            b.addEventListener("click", () => openAck(a));
            act.appendChild(b);
        }
        tr.appendChild(act);
        body.appendChild(tr);
    }
    $("alarms-empty").hidden = alarms.length > 0;
    $("alarms-table").hidden = alarms.length === 0;
}

/* A person's act (acknowledging, changing a setting) with their password,
 * asked every time by the page (a signature). Cockpit 287's bridge registers a polkit agent for
 * the session, but it can answer only with the login password, which
 * cockpit-ws forgets once the session is set up: a call over cockpit.dbus
 * is refused. So the page does what a person at a terminal does: it runs
 * coldroomctl on a pseudo-terminal in the person's session and types
 * the password given here when polkit's text agent asks. That agent is
 * registered for the very process that calls coldroomd (a shell that then
 * becomes coldroomctl: exec keeps the pid and start time, polkit's
 * subject) and not as a fallback, so polkitd asks it rather than the
 * session's agent (coldroomctl's own fallback agent would lose to that).
 * The outer shell ends the agent when coldroomctl is done. */
const ACT_SCRIPT = [
    'd=$(mktemp -d) && mkfifo "$d/registered" || exit 1',
    'sh -c \'pkttyagent --process $$ --notify-fd 3 3>"$1/registered" & echo $! >"$1/agent"',
    '    read -r _ <"$1/registered"; shift; exec coldroomctl "$@"\' - "$d" "$@"',
    'rc=$?',
    'kill "$(cat "$d/agent")" 2>/dev/null',
    'rm -rf "$d"',
    'exit $rc',
].join("\n");
/* coldroomctl ARGS as the person, who types PASSWORD when polkit's agent
 * asks. Resolves when it succeeded; rejects with its exit status, how
 * often a password was asked for and coldroomctl's own words. */
function act(args, password) {
    let output = "";
    let prompts = 0;
    let typed = null; /* the answer typed at the last prompt, until the agent reads it */
    const me = cockpit.user();
    const proc = cockpit.spawn(["/bin/sh", "-c", ACT_SCRIPT, "-"].concat(args),
                               { pty: true, err: "out", environ: ["LC_ALL=C"] });
    function type(t) {
        if (typed !== t)
            return; /* a new prompt came meanwhile */
        t.since = output.length;
        t.times++;
        proc.input(t.answer, true);
    }
    proc.stream(data => {
        output += data;
        /* pkttyagent prints the prompt, then turns echo off and flushes
         * what came before. Typed too early, the password comes back as
         * echo and is thrown away: typed again, until the agent reads it
         * with echo off (then it never shows). Asked again after a wrong
         * password, the person gives up (end of file). Offered several
         * administrators, the person is the one logged in. */
        const echo = typed && typed.secret ? output.indexOf(typed.secret, typed.since) : -1;
        const choose = /Choose identity to authenticate as \(1-\d+\): *$/.test(output);
        if (echo >= 0) {
            /* Never shown, in an error message or elsewhere. */
            output = output.slice(0, echo) + output.slice(echo + typed.secret.length);
            if (typed.times < 10)
                window.setTimeout(type, 100 * typed.times, typed);
        } else if (choose) {
            output += "\n";
            me.then(user => {
                const mine = output.match(new RegExp("(\\d+)\\.\\s+.*\\(" +
                    user.name.replace(/[^A-Za-z0-9_.-]/g, "") + "\\)"));
                proc.input((mine ? mine[1] : "1") + "\n", true);
            });
        } else if (/[Pp]assword: *$/.test(output)) {
            output += "\n";
            const first = prompts++ === 0;
            typed = { answer: first ? password + "\n" : "\x04", secret: first ? password : "",
                      since: 0, times: 0 };
            type(typed);
        }
    });
    return proc.catch(ex => {
        /* coldroomctl's own words: its last line (the prompt is not one),
         * without the agent's colours. */
        const lines = output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").split(/\r?\n/)
                .map(l => l.replace(/^.*[Pp]assword: */, "").trim()).filter(l => l);
        const why = lines.length ? lines[lines.length - 1] : cockpit.message(ex);
        return Promise.reject({ status: ex.exit_status, prompts, why });
    });
}

const dialog = $("ack-dialog");
let ackTarget = null;

function openAck(a) {
    ackTarget = a;
    $("ack-what").textContent = (a.unit || a.serial) + " (" + a.serial + "), probe " + a.probe +
        ": " + a.kind + " alarm, " + (ALARM_STATE[a.state] || "");
    $("ack-comment").value = "";
    $("ack-password").value = "";
    $("ack-error").hidden = true;
    $("ack-submit").disabled = false;
    dialog.showModal();
    $("ack-comment").focus();
}

function ackFailed(strong, text) {
    const err = $("ack-error");
    err.replaceChildren();
    if (strong)
        err.appendChild(el("strong", strong + " "));
    err.appendChild(el("span", text));
    err.hidden = false;
    $("ack-submit").disabled = false;
}

$("ack-cancel").addEventListener("click", () => dialog.close());
$("ack-form").addEventListener("submit", ev => {
    ev.preventDefault();
    const comment = $("ack-comment").value.trim();
    const password = $("ack-password").value;
    if (!comment || !ackTarget)
        return;
    $("ack-submit").disabled = true;
    act(["ack", ackTarget.serial, String(ackTarget.probe), "--comment", comment], password)
            .then(() => {
                dialog.close();
                loadAlarms();
            })
            .catch(({ status, prompts, why }) => {
                if (status === 5 && prompts > 0)
                    ackFailed("Not acknowledged: the password was not accepted.", why);
                else if (status === 5)
                    ackFailed("Not allowed to acknowledge.", why);
                else if (status === 6)
                    ackFailed("Refused.", why);
                else
                    ackFailed("Not acknowledged.", why);
            });
});

/* ---- Files coldroomctl writes: a day report, a thermal frame ---- */

/* coldroomctl writes the file in a private directory of the person's
 * session; its bytes come back as the command's output and the directory
 * goes. coldroomctl's own message (stderr) is the error when it fails. */
const TO_FILE_SCRIPT = 'd=$(mktemp -d) || exit 1; trap \'rm -rf "$d"\' EXIT; ' +
    'f="$d/$1"; shift; coldroomctl "$@" -o "$f" >/dev/null && cat "$f"';

function coldroomctlFile(fileName, args) {
    return cockpit.spawn(["/bin/sh", "-c", TO_FILE_SCRIPT, "-", fileName].concat(args),
                         { binary: true, err: "message", environ: ["LC_ALL=C"] })
            .then(data => data instanceof Uint8Array ? data : Uint8Array.from(data));
}

function spawnError(ex) {
    /* coldroomctl's last line, without its program name. */
    const lines = String(ex.message || cockpit.message(ex)).trim().split("\n");
    return lines[lines.length - 1].replace(/^coldroomctl: /, "");
}

/* ---- A unit: history chart and audit trail ---- */

let unitHours = 1;
let unitLoad = 0; /* a newer view supersedes the pages still coming */

function pages(client, path, iface, method, args, type, take) {
    /* Page after page until "more" is false (DBUS-API.md, "The record"). */
    let n = 0;
    function next(after1, after2) {
        return client.call(path, iface, method, args.concat([after1, after2]), { type })
                .then(reply => {
                    const more = reply[reply.length - 3];
                    take(reply);
                    if (more && ++n < MAX_PAGES)
                        return next(reply[reply.length - 2], reply[reply.length - 1]);
                });
    }
    return next(0, 0);
}

function showUnit(name) {
    const u = sorted.find(x => x.name === name);
    $("unit-title").textContent = name;
    const facts = $("unit-facts");
    facts.replaceChildren();
    if (!u) {
        facts.appendChild(el("dt", loaded ? "No such unit" : "Loading"));
        return;
    }
    const add = (k, v) => { facts.appendChild(el("dt", k)); facts.appendChild(el("dd", v)) };
    add("Label", u.label || "");
    add("Serial", u.serial);
    add("Model", u.model);
    add("Firmware", firmwareText(u));
    add("Probe 1", reading(u, 1) + (u.alarms & 1 ? " (alarm)" : ""));
    add("Alarm band 1", band(u.min1, u.max1) + ", hysteresis " + (u.hyst1 / 1000).toFixed(1) + " °C");
    add("Probe 2", reading(u, 2) + (u.alarms & 2 ? " (alarm)" : ""));
    add("Alarm band 2", band(u.min2, u.max2) + ", hysteresis " + (u.hyst2 / 1000).toFixed(1) + " °C");
    add("Interval", (u.interval / 1000) + " s");
    add("Last sample", time(u.last));
    fillSettings(u);

    const load = ++unitLoad;
    showFrame(u);
    const until = Date.now() * 1000;
    const since = until - unitHours * 3600e6;
    for (const probe of [1, 2]) {
        const rows = { start: [], end: [], samples: [], min: [], mean: [], max: [], status: [] };
        const box = $("chart-" + probe);
        box.replaceChildren(el("p", "Probe " + probe + ": loading…", "note"));
        pages(recorder, RECORDER_PATH, RECORDER, "GetHistoryPage2", [u.serial, probe, since, until], "sutttt",
              r => {
                  const st = bytes(r[6]);
                  for (let i = 0; i < r[0].length; i++) {
                      rows.start.push(r[0][i]);
                      rows.end.push(r[1][i]);
                      rows.samples.push(r[2][i]);
                      rows.min.push(r[3][i]);
                      rows.mean.push(r[4][i]);
                      rows.max.push(r[5][i]);
                      rows.status.push(st[i]);
                  }
              })
                .then(() => {
                    if (load === unitLoad)
                        drawChart(box, probe, rows, since, until, probe === 1 ? [u.min1, u.max1] : [u.min2, u.max2]);
                })
                .catch(ex => {
                    if (load === unitLoad)
                        box.replaceChildren(el("p", "Probe " + probe + ": the history cannot be read: " + ex.message, "note"));
                });
    }

    const events = [];
    pages(recorder, RECORDER_PATH, RECORDER, "GetEventsPage", [u.serial, since, until], "stttt",
          r => events.push(...r[0]))
            .then(() => { if (load === unitLoad) renderEvents(events) })
            .catch(ex => {
                if (load === unitLoad) {
                    renderEvents([]);
                    $("events-empty").textContent = "The audit trail cannot be read: " + ex.message;
                }
            });
}

/* ---- A unit's settings: changed by an administrator, with their password ---- */

const SETTINGS = [ /* form field, coldroomctl set's key, the unit's value, to the key's unit */
    ["set-label", "label", u => u.label || "", v => v],
    ["set-interval", "interval", u => u.interval / 1000, v => Math.round(v * 1000)],
    ["set-min1", "temp1.min", u => u.min1 / 1000, v => Math.round(v * 1000)],
    ["set-max1", "temp1.max", u => u.max1 / 1000, v => Math.round(v * 1000)],
    ["set-hyst1", "temp1.hyst", u => u.hyst1 / 1000, v => Math.round(v * 1000)],
    ["set-min2", "temp2.min", u => u.min2 / 1000, v => Math.round(v * 1000)],
    ["set-max2", "temp2.max", u => u.max2 / 1000, v => Math.round(v * 1000)],
    ["set-hyst2", "temp2.hyst", u => u.hyst2 / 1000, v => Math.round(v * 1000)],
];
let settingsUnit = null;

function fillSettings(u) {
    settingsUnit = u;
    for (const [id, , get] of SETTINGS)
        $(id).value = get(u);
}

/* What differs from the unit's settings now: coldroomctl set's KEY=VALUE. */
function settingChanges(u) {
    const changes = [];
    for (const [id, key, get, to] of SETTINGS) {
        const field = $(id);
        if (field.type === "number") {
            if (field.value === "" || !Number.isFinite(Number(field.value)))
                continue;
            const v = to(Number(field.value));
            if (v !== to(get(u)))
                changes.push(key + "=" + v);
        } else if (field.value !== get(u)) {
            changes.push(key + "=" + field.value);
        }
    }
    return changes;
}

const settingsDialog = $("settings-dialog");
let pendingChanges = [];

function settingsFailed(strong, text) {
    const err = $("settings-error");
    err.replaceChildren(el("strong", strong + " "), el("span", text));
    err.hidden = false;
    $("settings-submit").disabled = false;
}

$("settings-form").addEventListener("submit", ev => {
    ev.preventDefault();
    const u = settingsUnit;
    if (!u)
        return;
    pendingChanges = settingChanges(u);
    const list = $("settings-changes");
    list.replaceChildren();
    if (!pendingChanges.length)
        return;
    $("settings-what").textContent = (u.label || u.name) + " (" + u.serial + "):";
    for (const c of pendingChanges)
        list.appendChild(el("li", c));
    $("settings-password").value = "";
    $("settings-error").hidden = true;
    $("settings-submit").disabled = false;
    settingsDialog.showModal();
    $("settings-password").focus();
});
$("settings-cancel").addEventListener("click", () => settingsDialog.close());
$("settings-confirm").addEventListener("submit", ev => {
    ev.preventDefault();
    const u = settingsUnit;
    if (!u || !pendingChanges.length)
        return;
    $("settings-submit").disabled = true;
    act(["set", u.name].concat(pendingChanges), $("settings-password").value)
            .then(() => {
                settingsDialog.close();
                /* The new values come back in coldroomd's PropertiesChanged. */
                window.setTimeout(() => { if (settingsUnit === u) showUnit(u.name) }, 500);
            })
            .catch(({ status, prompts, why }) => {
                if (status === 5 && prompts > 0)
                    settingsFailed("Not changed: the password was not accepted.", why);
                else if (status === 5)
                    settingsFailed("Not allowed to change settings.", why);
                else
                    settingsFailed("Not changed.", why);
            });
});

/* Units with a thermal imager have frames; the others say so. */
function showFrame(u) {
    const img = $("frame");
    const note = $("frame-note");
    const load = unitLoad;
    $("frame-card").hidden = false;
    note.textContent = "Loading the latest frame…";
    coldroomctlFile("frame.png", ["frame", u.name])
            .then(data => {
                if (load !== unitLoad)
                    return;
                /* A data: URL: Cockpit's content security policy allows no blob: image. */
                let text = "";
                for (let i = 0; i < data.length; i += 0x8000)
                    text += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
                img.src = "data:image/png;base64," + window.btoa(text);
                img.hidden = false;
                note.textContent = "The latest frame, as the unit's imager took it.";
            })
            .catch(ex => {
                if (load !== unitLoad)
                    return;
                img.hidden = true;
                note.textContent = "No thermal frame: " + spawnError(ex);
            });
}

$("frame-refresh").addEventListener("click", () => {
    const u = sorted.find(x => x.name === $("unit-title").textContent);
    if (u)
        showFrame(u);
});

function renderEvents(events) {
    const body = $("events-body");
    body.replaceChildren();
    /* Newest first: what a person looks for. */
    for (let i = events.length - 1; i >= 0; i--) {
        const [t, event, probe, hasReading, value, user, what, oldValue, newValue, detail] = events[i];
        const tr = el("tr");
        tr.appendChild(el("td", time(t), "time"));
        tr.appendChild(el("td", event));
        tr.appendChild(el("td", probe || ""));
        tr.appendChild(el("td", hasReading ? celsius(value) : "", "num"));
        tr.appendChild(el("td", user));
        tr.appendChild(el("td", what));
        tr.appendChild(el("td", oldValue || newValue ? oldValue + " → " + newValue : ""));
        tr.appendChild(el("td", detail));
        body.appendChild(tr);
    }
    $("events-empty").textContent = "No entry in this period.";
    $("events-empty").hidden = events.length > 0;
    $("events-table").hidden = events.length === 0;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, cls) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs)
        e.setAttribute(k, attrs[k]);
    if (cls)
        e.setAttribute("class", cls);
    return e;
}

/* Rows bucketed to about one per two pixels: min of the minima, max of the
 * maxima, the sample-weighted mean; a bucket with no good row is a gap. */
function drawChart(box, probe, rows, since, until, limits) {
    /* A record younger than the range: the axis starts where it begins. */
    const recordBegins = rows.start.length && rows.start[0] > since;
    if (recordBegins)
        since = rows.start[0];
    const width = Math.max(400, box.clientWidth || 900);
    const height = 240;
    const left = 56;
    const right = 12;
    const top = 24;
    const bottom = 24;
    const plotW = width - left - right;
    const plotH = height - top - bottom;
    const nb = Math.max(1, Math.floor(plotW / 2));
    const span = until - since;
    const bmin = new Array(nb).fill(Infinity);
    const bmax = new Array(nb).fill(-Infinity);
    const wsum = new Array(nb).fill(0);
    const msum = new Array(nb).fill(0);
    for (let i = 0; i < rows.start.length; i++) {
        if (!rows.samples[i] || rows.status[i] !== 0)
            continue;
        const a = Math.max(0, Math.floor((rows.start[i] - since) / span * nb));
        const b = Math.min(nb - 1, Math.floor((Math.max(rows.start[i], rows.end[i] - 1) - since) / span * nb));
        for (let k = a; k <= b; k++) {
            bmin[k] = Math.min(bmin[k], rows.min[i]);
            bmax[k] = Math.max(bmax[k], rows.max[i]);
            wsum[k] += rows.samples[i];
            msum[k] += rows.mean[i] * rows.samples[i];
        }
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < nb; k++) {
        if (wsum[k]) {
            lo = Math.min(lo, bmin[k]);
            hi = Math.max(hi, bmax[k]);
        }
    }
    for (const l of limits) {
        if (l !== undefined) {
            lo = Math.min(lo, l);
            hi = Math.max(hi, l);
        }
    }
    if (!isFinite(lo)) {
        lo = -25000;
        hi = 5000;
    }
    const pad = Math.max(1000, (hi - lo) * 0.1);
    lo -= pad;
    hi += pad;
    const x = t => left + (t - since) / span * plotW;
    const y = v => top + (hi - v) / (hi - lo) * plotH;
    const bx = k => left + k / nb * plotW;

    const s = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img" });
    s.setAttribute("aria-label", "Probe " + probe + " history");
    const defs = svg("defs");
    const pattern = svg("pattern", { id: "gap-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
    pattern.appendChild(svg("line", { x1: 0, y1: 0, x2: 0, y2: 6 }, "gap-hatch-line"));
    defs.appendChild(pattern);
    s.appendChild(defs);

    const axis = svg("g", {}, "axis");
    const step = niceStep((hi - lo) / 5);
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
        axis.appendChild(svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v) }));
        const t = svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" });
        t.textContent = (v / 1000).toFixed(step < 1000 ? 1 : 0) + " °C";
        axis.appendChild(t);
    }
    for (let i = 0; i <= 4; i++) {
        const tm = since + span * i / 4;
        const t = svg("text", { x: x(tm), y: height - 6, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" });
        const d = new Date(tm / 1000);
        if (span > 24 * 3600e6)
            t.textContent = d.toLocaleDateString("sv-SE") + " " + d.toTimeString().slice(0, 5);
        else
            t.textContent = d.toTimeString().slice(0, span < 600e6 ? 8 : 5);
        axis.appendChild(t);
    }
    s.appendChild(axis);

    /* Gaps first, under the data: runs of empty buckets. */
    let gapStart = -1;
    for (let k = 0; k <= nb; k++) {
        const empty = k < nb && !wsum[k];
        if (empty && gapStart < 0)
            gapStart = k;
        if (!empty && gapStart >= 0) {
            s.appendChild(svg("rect", { x: bx(gapStart), y: top, width: bx(k) - bx(gapStart), height: plotH }, "gap"));
            gapStart = -1;
        }
    }
    let bandPath = "";
    let meanPath = "";
    for (let k = 0; k < nb; k++) {
        if (!wsum[k])
            continue;
        bandPath += "M" + bx(k).toFixed(1) + "," + y(bmax[k]).toFixed(1) + "H" + bx(k + 1).toFixed(1) +
            "V" + y(bmin[k]).toFixed(1) + "H" + bx(k).toFixed(1) + "Z";
        const m = y(msum[k] / wsum[k]).toFixed(1);
        meanPath += (k > 0 && wsum[k - 1] ? "L" : "M") + bx(k).toFixed(1) + "," + m + "H" + bx(k + 1).toFixed(1);
    }
    if (bandPath)
        s.appendChild(svg("path", { d: bandPath }, "band"));
    if (meanPath)
        s.appendChild(svg("path", { d: meanPath }, "mean"));
    for (const l of limits)
        if (l !== undefined)
            s.appendChild(svg("line", { x1: left, x2: width - right, y1: y(l), y2: y(l) }, "limit"));
    const title = svg("text", { x: left, y: 14 }, "title");
    title.textContent = "Probe " + probe + (!rows.start.length ? ": no record in this period"
        : recordBegins ? " (the record begins " + time(since) + ")" : "");
    s.appendChild(title);

    box.replaceChildren(s);
    box.dataset.rows = String(rows.start.length);
}

function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10])
        if (raw <= m * p)
            return m * p;
    return 10 * p;
}

for (const b of document.querySelectorAll("#range button")) {
    b.addEventListener("click", () => {
        unitHours = Number(b.dataset.hours);
        for (const o of document.querySelectorAll("#range button"))
            o.classList.toggle("active", o === b);
        route();
    });
}

/* ---- Record ---- */

function loadRecorderFacts() {
    recorder.call(RECORDER_PATH, "org.freedesktop.DBus.Properties", "GetAll", [RECORDER], { type: "s" })
            .then(([props]) => {
                const facts = $("recorder-facts");
                facts.replaceChildren();
                const add = (k, v) => { facts.appendChild(el("dt", k)); facts.appendChild(el("dd", v)) };
                add("Recorder", props.Status ? props.Status.v : "");
                add("Interval", props.RecordIntervalSec ? props.RecordIntervalSec.v + " s" : "");
                add("Writing", props.WriteFailing && props.WriteFailing.v ? "failing (held in memory, retried)" : "ok");
            })
            .catch(ex => showProblem("The recorder cannot be reached: " + ex.message));
}

$("verify").addEventListener("click", () => {
    const out = $("verify-result");
    const button = $("verify");
    button.disabled = true;
    out.hidden = false;
    out.className = "verify";
    out.textContent = "Verifying…";
    recorder.call(RECORDER_PATH, RECORDER, "Verify", [])
            .then(([intact, recordRows, auditRows, message]) => {
                out.className = "verify " + (intact ? "verify-ok" : "verify-bad");
                /* The recorder's message names the rows walked and, when not intact, where. */
                out.textContent = (intact ? "Intact: " : "NOT intact: ") +
                    (message || recordRows + " record rows, " + auditRows + " audit rows");
            })
            .catch(ex => {
                out.className = "verify verify-bad";
                out.textContent = "Cannot verify: " + ex.message;
            })
            .finally(() => { button.disabled = false });
});

function today() {
    const d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
        String(d.getDate()).padStart(2, "0");
}

$("report-day").value = today();
$("report-day").max = today();
$("report").addEventListener("click", () => {
    const day = $("report-day").value;
    const out = $("report-result");
    const button = $("report");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day))
        return;
    button.disabled = true;
    out.hidden = false;
    out.textContent = "Making the report of " + day + "…";
    coldroomctlFile("report.pdf", ["report", "--day", day])
            .then(data => {
                const name = "coldroom-report-" + day + ".pdf";
                const blob = new Blob([data], { type: "application/pdf" });
                const a = document.createElement("a");
                a.href = URL.createObjectURL(blob);
                a.download = name;
                document.body.appendChild(a);
                a.click();
                a.remove();
                window.setTimeout(() => URL.revokeObjectURL(a.href), 60000);
                /* What the person got, for the browser test. */
                blob.slice(0, 5).text().then(magic => {
                    stats.lastDownload = { name, size: blob.size, magic };
                });
                out.textContent = name + " (" + Math.ceil(data.length / 1024) + " kB) downloaded.";
            })
            .catch(ex => { out.textContent = "No report: " + spawnError(ex) })
            .finally(() => { button.disabled = false });
});

/* ---- Screens: the location's hash, which Cockpit keeps in its own URL ---- */

function currentScreen() {
    const parts = window.location.hash.replace(/^#\/?/, "").split("/");
    return parts[0] === "" ? "rooms" : parts[0];
}

function route() {
    const parts = window.location.hash.replace(/^#\/?/, "").split("/");
    const screen = currentScreen();
    for (const s of document.querySelectorAll(".screen"))
        s.hidden = s.id !== screen;
    for (const a of document.querySelectorAll("#tabs a"))
        a.classList.toggle("active", a.dataset.screen === screen || (screen === "unit" && a.dataset.screen === "rooms"));
    if (screen === "rooms")
        render();
    else if (screen === "unit")
        showUnit(decodeURIComponent(parts[1] || ""));
    else if (screen === "record")
        loadRecorderFacts();
}

window.addEventListener("hashchange", route);

function showProblem(text) {
    const p = $("service-problem");
    p.textContent = text || "";
    p.hidden = !text;
}

/* A new coldroomd (a restart) starts from a fresh state. */
let owner;
bus.addEventListener("owner", (event, now) => {
    const before = owner;
    owner = now;
    if (!now)
        showProblem("coldroomd is not running: the values shown are the last ones it sent.");
    else if (before !== undefined && before !== now)
        start();
});

function start() {
    loadUnits()
            .then(() => {
                loadAlarms();
                route();
            })
            .catch(ex => showProblem("The units cannot be read from coldroomd: " + ex.message));
}

subscribe();
route();
start();
