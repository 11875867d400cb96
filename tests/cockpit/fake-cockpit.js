// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fake-cockpit.js - stands in for Cockpit's cockpit.js in the page's
 * benchmark (bench.py): a coldroomd of ?units=N units (default 10,000),
 * which sends a Readings signal with every unit in it each ?period= ms
 * (default 1000: a 1 s batch window at 1 Hz, the largest signal a site of
 * N units sends). Each signal goes through JSON text as the bridge's
 * messages do, arrays of bytes as base64; what the parse costs is kept
 * apart (window.fakeStats.parseMs) from what the page's handler costs.
 */
"use strict";

(function () {
    const q = new URLSearchParams(window.location.search);
    const N = Number(q.get("units") || 10000);
    const PERIOD = Number(q.get("period") || 1000);
    const fakeStats = window.fakeStats = { parseMs: [] };
    const handlers = {};

    function b64(bytes) {
        let s = "";
        for (let i = 0; i < bytes.length; i++)
            s += String.fromCharCode(bytes[i]);
        return window.btoa(s);
    }

    function unitProps(n) {
        const v = (t, x) => ({ t, v: x });
        return {
            Name: v("s", "sensor" + n), Number: v("u", n), Serial: v("s", "SIM-" + String(n).padStart(6, "0")),
            Model: v("s", "CRS-200"), Label: v("s", "Room " + Math.floor(n / 10) + " shelf " + (n % 10)),
            Temp1: v("i", -18000), Temp2: v("i", -18500), Temp1Status: v("u", 1), Temp2Status: v("u", 1),
            Temp1Alarm: v("b", n % 1000 === 7), Temp2Alarm: v("b", false),
            Temp1Min: v("i", -25000), Temp1Max: v("i", -15000), Temp1Hyst: v("i", 500),
            Temp2Min: v("i", -25000), Temp2Max: v("i", -15000), Temp2Hyst: v("i", 500),
            UpdateIntervalMs: v("u", 1000), SampleSeq: v("t", 1), LastUpdate: v("t", Date.now() * 1000),
            FirmwareState: v("s", "ready"), FirmwareVersion: v("s", "1.0.0"), FirmwareError: v("s", ""),
        };
    }

    let seq = 1;
    function readingsText() {
        const units = [], t1 = [], t2 = [], seqs = [], last = [];
        const st = new Uint8Array(N).fill(1);
        const al = new Uint8Array(N);
        const now = Date.now() * 1000;
        seq++;
        for (let n = 0; n < N; n++) {
            units.push(n);
            t1.push(-18000 + Math.round(Math.sin(seq + n) * 400));
            t2.push(-18500 + Math.round(Math.cos(seq + n) * 400));
            al[n] = n % 1000 === 7 ? 1 : 0;
            seqs.push(seq);
            last.push(now);
        }
        return JSON.stringify({ signal: ["/org/coldroom/Sensors1", "org.coldroom.Sensors1.Manager", "Readings",
            [units, t1, t2, b64(st), b64(st), b64(al), seqs, last]] });
    }

    function emit() {
        const text = readingsText();
        const t0 = performance.now();
        const msg = JSON.parse(text);
        fakeStats.parseMs.push(performance.now() - t0);
        for (const cb of handlers.Readings || [])
            cb(msg.signal[0], msg.signal[1], msg.signal[2], msg.signal[3]);
    }

    function client() {
        return {
            call(path, iface, method) {
                if (method === "GetManagedObjects") {
                    const objects = {};
                    for (let n = 0; n < N; n++)
                        objects["/org/coldroom/Sensors1/unit/sensor" + n] = { "org.coldroom.Sensors1.Unit": unitProps(n) };
                    /* Through JSON text too: the 10 MB reply the bridge would pass. */
                    return Promise.resolve(JSON.parse(JSON.stringify([objects])));
                }
                if (method === "ListAlarms")
                    return Promise.resolve([[]]);
                return Promise.reject(new Error("not in the fake: " + method));
            },
            subscribe(match, cb) {
                (handlers[match.member] = handlers[match.member] || []).push(cb);
                return { remove() {} };
            },
            addEventListener() {},
        };
    }

    window.cockpit = {
        dbus: client,
        base64_decode(s, Type) {
            const bin = window.atob(s);
            const out = new (Type || Array)(bin.length);
            for (let i = 0; i < bin.length; i++)
                out[i] = bin.charCodeAt(i);
            return out;
        },
    };
    window.addEventListener("load", () => window.setInterval(emit, PERIOD));
})();
