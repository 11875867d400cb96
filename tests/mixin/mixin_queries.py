#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The PromQL of the mixin: the rules' expressions and every query of the
Grafana dashboard (its panels' targets and its variables).

  mixin_queries.py names PAGE RULES DASHBOARD
      every metric name the rules and the dashboard use is on PAGE (a scrape
      of coldroom-metrics) or is Prometheus' own per-target series; the rules
      may also use what they record themselves. Exit 1, naming each stranger.
  mixin_queries.py covered RULES TESTS
      every alert of RULES has a severity label and summary, description and
      runbook annotations, and the promtool tests TESTS have it both firing
      and not firing; every recording rule is evaluated by a test.
  mixin_queries.py exprs DASHBOARD
      the dashboard's queries as Prometheus would run them (the dashboard's
      variables replaced by "all"; a variable's label_values(SELECTOR, LABEL)
      as the values of LABEL among SELECTOR), one JSON string a line.

Metric names are found the way PromQL reads them: string literals, label
matchers, ranges and the label lists of by/without/on/ignoring/group_*
removed, an identifier followed by "(" is a function or an aggregation, and
keywords are not names.
"""
import json
import re
import sys

import yaml

# Series Prometheus adds to every target itself.
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                  "scrape_samples_post_metric_relabeling", "scrape_series_added"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2", "start", "end"}

# What "All" of each of the dashboard's variables stands for.
VARIABLES = {"instance": ".+", "label": ".*", "__rate_interval": "1m", "__interval": "1m",
             "__range": "1h"}


def substitute(expr):
    """The query with the dashboard's variables replaced by their "All"."""
    def value(m):
        name = m.group(1) or m.group(2)
        if name not in VARIABLES:
            raise ValueError("unknown dashboard variable $%s in %r" % (name, expr))
        return VARIABLES[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def metric_names(expr):
    """The metric names an expression selects."""
    e = substitute(expr)
    # label_values(SELECTOR, LABEL) and label_values(LABEL): Grafana's, not PromQL.
    m = re.fullmatch(r"\s*label_values\(\s*(.*?)\s*(?:,\s*\w+\s*)?\)\s*", e, re.S)
    if m:
        e = m.group(1) if "," in expr else ""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS or re.fullmatch(r"[0-9]", word[0]):
            continue
        names.add(word)
    return names


def page_names(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            names.add(re.match(r"[A-Za-z_:][\w:]*", line).group(0))
    return names


def rules_exprs(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    exprs, recorded = [], set()
    for group in doc["groups"]:
        for rule in group["rules"]:
            what = rule.get("alert") or rule.get("record")
            exprs.append(("rule " + what, str(rule["expr"])))
            if "record" in rule:
                recorded.add(rule["record"])
    return exprs, recorded


def dashboard_exprs(path):
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    exprs = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                exprs.append(("panel %r %s" % (p.get("title"), t.get("refId")), t["expr"]))
            walk(p.get("panels", []))
    walk(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]
            exprs.append(("variable $" + v["name"], q["query"] if isinstance(q, dict) else q))
    return exprs


def covered(rules_path, tests_path):
    with open(rules_path, encoding="utf-8") as f:
        rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
    with open(tests_path, encoding="utf-8") as f:
        tests = yaml.safe_load(f)["tests"]
    firing, quiet, exprs = set(), set(), []
    for t in tests:
        for a in t.get("alert_rule_test", []):
            (firing if a.get("exp_alerts") else quiet).add(a["alertname"])
        exprs += [e["expr"] for e in t.get("promql_expr_test", [])]
    bad = 0
    for r in rules:
        if "record" in r:
            if not any(r["record"] in metric_names(e) for e in exprs):
                print("recording rule %s: no test evaluates it" % r["record"])
                bad += 1
            continue
        name = r["alert"]
        if r.get("labels", {}).get("severity") not in ("critical", "warning"):
            print("alert %s: no severity critical or warning" % name)
            bad += 1
        missing = {"summary", "description", "runbook"} - set(r.get("annotations", {}))
        if missing:
            print("alert %s: no %s annotation" % (name, ", ".join(sorted(missing))))
            bad += 1
        for what, seen in (("firing", firing), ("not firing", quiet)):
            if name not in seen:
                print("alert %s: no test has it %s" % (name, what))
                bad += 1
    print("%d rules: %s" % (len(rules), "each covered" if not bad else "%d gap(s)" % bad))
    return 1 if bad else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "covered":
        return covered(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "exprs":
        for where, expr in dashboard_exprs(argv[2]):
            e = substitute(expr)
            m = re.fullmatch(r"\s*label_values\(\s*(.*?)\s*,\s*(\w+)\s*\)\s*", e, re.S)
            if m:
                sel, label = m.group(1), m.group(2)
                has = '%s!=""' % label
                sel = sel[:-1] + ", " + has + "}" if sel.endswith("}") else sel + "{" + has + "}"
                e = "count by (%s) (%s)" % (label, sel)
            print(json.dumps(e))
        return 0
    if len(argv) != 5 or argv[1] != "names":
        print(__doc__, file=sys.stderr)
        return 2
    scraped = page_names(argv[2]) | PROMETHEUS_OWN
    rules, recorded = rules_exprs(argv[3])
    dashboard = dashboard_exprs(argv[4])
    bad = 0
    used = set()
    for where, expr, known in ([(w, e, scraped | recorded) for w, e in rules] +
                               [(w, e, scraped) for w, e in dashboard]):
        names = metric_names(expr)
        if not names:
            print("%s: no metric name found in %r" % (where, expr))
            bad += 1
        for name in sorted(names - known):
            print("%s: %s is not on the scraped page" % (where, name))
            bad += 1
        used |= names
    print("%d rules and %d dashboard queries use %d metric names: %s" %
          (len(rules), len(dashboard), len(used), " ".join(sorted(used))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
