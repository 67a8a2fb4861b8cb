#!/usr/bin/env python3
"""Tools for the tests of config/prometheus/chengxin-hub-alerts.yml (tests/prometheus/).

  alert_rules.py strip RULES OUT
      RULES without annotations: the conditions that the unit tests of the rules check
      (promtool compares annotations too; the full text is tested once, in annotations_test.yml).
  alert_rules.py check RULES SCRAPE
      Fails when a rule names a hub_* metric that is not in SCRAPE (a real hubd's /metrics), or
      a label that none of the metrics the rule names carries there: so a rule cannot silently
      refer to something hubd does not export.
  alert_rules.py series SCRAPE RULES_PATH OUT [ALERT:LABEL=VALUE ...]
      A promtool test whose input series are every sample of SCRAPE, held for an hour, and which
      expects exactly the alerts given (alert name and one identifying label) to fire after an
      hour, and no other alert; it runs on OUT.conditions.yml, RULES without annotations.
"""
import re
import sys

import yaml

# Series that Prometheus makes itself, not hubd.
PROMETHEUS_SERIES = {"up"}
# Labels that Prometheus adds to every scraped series, or PromQL's own.
PROMETHEUS_LABELS = {"job", "instance", "le", "__name__"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
                "offset"}


def load_rules(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return doc, [r for g in doc["groups"] for r in g["rules"]]


def parse_scrape(path):
    """{metric name: set of label names}, and the samples as (name, {label: value}, value)."""
    names, samples = {}, []
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            m = line_re.match(line)
            if not m:
                sys.exit(f"not Prometheus text: {line!r}")
            labels = dict(label_re.findall(m.group(3) or ""))
            names.setdefault(m.group(1), set()).update(labels)
            samples.append((m.group(1), labels, m.group(4)))
    return names, samples


def used(rule):
    """The metric names and label names a rule's expression and annotations use."""
    expr = rule["expr"]
    text_only = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # no words from inside label values
    metrics = set(re.findall(r'\b(hub_[a-z0-9_]+)\b', text_only))
    metrics |= {w for w in re.findall(r'\b([a-z_]+)\s*\{', text_only) if w in PROMETHEUS_SERIES}
    labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"', expr))
    for group in re.findall(r'\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)', text_only):
        labels |= {w.strip() for w in group.split(",") if w.strip()}
    for text in list(rule.get("annotations", {}).values()) + list(rule.get("labels", {}).values()):
        labels |= set(re.findall(r'\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)', str(text)))
    return metrics, labels


def check(rules_path, scrape_path):
    _, rules = load_rules(rules_path)
    names, _ = parse_scrape(scrape_path)
    problems = []
    for rule in rules:
        metrics, labels = used(rule)
        hub_metrics = metrics - PROMETHEUS_SERIES
        if not metrics:
            problems.append(f"{rule['alert']}: names no metric")
        for m in sorted(hub_metrics):
            if m not in names:
                problems.append(f"{rule['alert']}: hubd's /metrics has no {m}")
        carried = set(PROMETHEUS_LABELS)
        for m in hub_metrics & names.keys():
            carried |= names[m]
        for label in sorted(labels - carried):
            problems.append(f"{rule['alert']}: no metric it uses ({', '.join(sorted(metrics))}) has the label {label}")
    for p in problems:
        print(p)
    print(f"{len(rules)} rules, {len(names)} metric names in the scrape, {len(problems)} problems")
    return 1 if problems else 0


def strip(rules_path, out_path):
    doc, rules = load_rules(rules_path)
    for rule in rules:
        rule.pop("annotations", None)
    with open(out_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, allow_unicode=True, sort_keys=False)
    return 0


def series(scrape_path, rules_path, out_path, expected):
    _, samples = parse_scrape(scrape_path)
    _, rules = load_rules(rules_path)
    target = {"job": "chengxin-hub", "instance": "hub:8080"}
    input_series = [{"series": 'up{job="chengxin-hub",instance="hub:8080"}', "values": "1x60"}]
    for name, labels, value in samples:
        labels = {**labels, **target}
        inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
        input_series.append({"series": f"{name}{{{inner}}}", "values": f"{float(value):g}+0x60"})
    want = {}
    for item in expected:
        alert, _, selector = item.partition(":")
        key, _, value = selector.partition("=")
        want.setdefault(alert, []).append((key, value))
    tests = []
    # After an hour of the same figures, every rule's `for` has passed: each rule fires exactly
    # where the scrape says it must, and nowhere else.
    for rule in rules:
        alerts = []
        for key, value in want.get(rule["alert"], []):
            # the rule's result keeps the labels of the series it selected, and adds its own
            selected = next((l for n, l, _ in samples if l.get(key) == value and n in used(rule)[0]), None)
            if selected is None:
                sys.exit(f"{rule['alert']}: no series of {sorted(used(rule)[0])} with {key}={value} in the scrape")
            alerts.append({"exp_labels": {**selected, **target, **rule.get("labels", {})}})
        tests.append({"eval_time": "60m", "alertname": rule["alert"], "exp_alerts": alerts})
    # promtool compares annotations too: the test runs on the conditions (RULES without them).
    conditions = out_path + ".conditions.yml"
    strip(rules_path, conditions)
    doc = {"rule_files": [conditions], "evaluation_interval": "1m",
           "tests": [{"interval": "1m", "input_series": input_series, "alert_rule_test": tests}]}
    with open(out_path, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, allow_unicode=True, sort_keys=False)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "strip":
        return strip(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) >= 5 and argv[1] == "series":
        return series(argv[2], argv[3], argv[4], argv[5:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
