#!/usr/bin/env python3
"""Renders the unifi-dns-sync Helm chart offline, for crates/unifi-dns-sync/tests/deploy.rs.

Uses Helm's own Go SDK through the `helm-python-sdk` package (import name `helm_python`), so the
chart is rendered exactly as `helm template` would, including the validation of the values
against values.schema.json. Needs: pip install helm-python-sdk pyyaml

    render.py render CHART --values FILE --out DIR [--name NAME] [--namespace NS]
        Renders the chart with the values in FILE (YAML or JSON) merged over values.yaml.
        Writes each Kubernetes object as JSON, DIR/NNN-<Kind>-<name>.json, and the rendered
        NOTES.txt as DIR/NOTES.txt.

    render.py defaults CHART --out FILE
        Validates the chart's own values.yaml against values.schema.json (Helm's validator) and
        writes the values as JSON to FILE.

    render.py lint CHART --values FILE --out FILE
        Runs `helm lint --strict` with the values in FILE and writes Helm's report as JSON.

Exit codes: 0 success; 1 Helm refused (schema, template `fail`, render error: the message is on
stderr); 2 bad usage; 3 a Python package is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

PIP_HINT = "pip install helm-python-sdk pyyaml"

try:
    import yaml
    import helm_python as helm
except ImportError as exc:  # pragma: no cover - depends on the machine
    print(f"render.py: {exc}; run `{PIP_HINT}`", file=sys.stderr)
    sys.exit(3)


def safe_file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text) or "unnamed"


def cmd_render(args: argparse.Namespace) -> int:
    with open(args.values, encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    if not isinstance(values, dict):
        print("render.py: the values file must hold a mapping", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    try:
        with helm.Chart.load(args.chart) as chart:
            rendered = chart.render(
                values, name=args.name, namespace=args.namespace, is_install=True
            )
    except helm.HelmError as exc:
        print(f"helm: {exc}", file=sys.stderr)
        return 1

    count = 0
    for template in sorted(rendered):
        text = rendered[template]
        if template.endswith("NOTES.txt"):
            with open(os.path.join(args.out, "NOTES.txt"), "w", encoding="utf-8") as f:
                f.write(text)
            continue
        if not template.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            if not isinstance(doc, dict) or "kind" not in doc:
                print(f"render.py: {template} rendered something that is not an object", file=sys.stderr)
                return 1
            count += 1
            name = doc.get("metadata", {}).get("name", "unnamed")
            path = os.path.join(
                args.out, f"{count:03}-{safe_file_part(doc['kind'])}-{safe_file_part(name)}.json"
            )
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"template": template, "object": doc}, f, indent=2, sort_keys=True)
    print(f"rendered {count} objects", file=sys.stderr)
    return 0


def cmd_defaults(args: argparse.Namespace) -> int:
    try:
        with helm.Chart.load(args.chart) as chart:
            values = chart.values
            chart.validate_schema(values)
    except helm.HelmError as exc:
        print(f"helm: {exc}", file=sys.stderr)
        return 1
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(values, f, indent=2, sort_keys=True)
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    with open(args.values, encoding="utf-8") as f:
        values = yaml.safe_load(f) or {}
    try:
        report = helm.lint(args.chart, values, strict=True)
    except helm.HelmError as exc:
        print(f"helm: {exc}", file=sys.stderr)
        return 1
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, sort_keys=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="render the chart with a values file")
    r.add_argument("chart")
    r.add_argument("--values", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--name", default="dns")
    r.add_argument("--namespace", default="unifi")
    r.set_defaults(func=cmd_render)

    d = sub.add_parser("defaults", help="validate values.yaml against the schema")
    d.add_argument("chart")
    d.add_argument("--out", required=True)
    d.set_defaults(func=cmd_defaults)

    lint = sub.add_parser("lint", help="helm lint --strict with a values file")
    lint.add_argument("chart")
    lint.add_argument("--values", required=True)
    lint.add_argument("--out", required=True)
    lint.set_defaults(func=cmd_lint)

    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
