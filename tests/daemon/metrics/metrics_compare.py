#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""Compare a coldroom-metrics page with `coldroomctl --json show` of units.

    metrics_compare.py PAGE SHOW.json...

Parses the text exposition format strictly enough for this page (one
sample a line, label values with \\\\, \\" and \\n escapes) and checks that
every unit's series say what coldroomctl says, and that the page has no
other units. Prints each difference; exits 1 if there is any.
"""
import json
import re
import sys

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: '\n' if m.group(1) == 'n' else m.group(1), v)


def parse(path):
    series = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            m = LINE.match(line)
            if not m:
                raise ValueError('unparsable line: %r' % line)
            labels = {}
            rest = m.group(2) or ''
            pos = 0
            while pos < len(rest):
                lm = LABEL.match(rest, pos)
                if not lm:
                    raise ValueError('unparsable labels: %r' % line)
                labels[lm.group(1)] = unescape(lm.group(2))
                pos = lm.end()
            key = (m.group(1), tuple(sorted(labels.items())))
            if key in series:
                raise ValueError('duplicate series: %r' % line)
            series[key] = (float(m.group(3)), m.group(4))
    return series


def main():
    series = parse(sys.argv[1])
    units = [json.load(open(p, encoding='utf-8')) for p in sys.argv[2:]]
    errors = []

    def expect(name, labels, value, timestamp=None):
        key = (name, tuple(sorted(labels.items())))
        got = series.pop(key, None)
        if got is None:
            errors.append('missing %s%s (want %r)' % (name, labels, value))
        elif got[0] != value or (timestamp is not None and got[1] != timestamp):
            errors.append('%s%s is %r @%s, coldroomctl says %r @%s' %
                          (name, labels, got[0], got[1], value, timestamp))

    statuses = {'unknown': 0, 'ok': 1, 'no-data': 2, 'disconnected': 3}
    for u in units:
        base = {'serial': u['serial'], 'unit': u['unit'], 'label': u['label']}
        expect('coldroom_unit_info', dict(base, model=u['model'],
                                          firmware_version=u['firmware_version']), 1)
        for p in (1, 2):
            probe = dict(base, probe=str(p))
            t = 'temp%d' % p
            if u[t + '_status'] == 'ok':
                ts = str(u['last_update_usec'] // 1000) if u['last_update_usec'] else None
                expect('coldroom_temperature_celsius', probe, u[t] / 1000, ts)
            expect('coldroom_probe_status', probe, statuses.get(u[t + '_status'], -1))
            expect('coldroom_alarm', probe, 1 if u[t + '_alarm'] else 0)
            expect('coldroom_temperature_min_celsius', probe, u[t + '_min'] / 1000)
            expect('coldroom_temperature_max_celsius', probe, u[t + '_max'] / 1000)
            expect('coldroom_temperature_hysteresis_celsius', probe, u[t + '_hyst'] / 1000)
        for state in ('pending', 'loading', 'ready', 'failed'):
            expect('coldroom_firmware_state', dict(base, state=state),
                   1 if u['firmware_state'] == state else 0)
        expect('coldroom_update_interval_seconds', base, u['update_interval_ms'] / 1000)
        expect('coldroom_samples_total', base, u['sample_seq'])
        if u['last_update_usec']:
            expect('coldroom_last_sample_timestamp_seconds', base, u['last_update_usec'] / 1e6)

    # Whatever is left must not belong to a unit.
    for (name, labels) in series:
        if 'serial' in dict(labels):
            errors.append('series of a unit coldroomctl does not show: %s%s' % (name, dict(labels)))
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
