#!/usr/bin/env python3
"""Checks real API answers against the schemas the OpenAPI document gives
them (tests/openapi.rs, issue #15 item 6).

Input (argv[1]): {"doc": <the OpenAPI document>, "samples": [{"method",
"path" (the documented template), "status", "body"}]}.

Each body is validated with JSON Schema 2020-12 (python `jsonschema`, which
`openapi-spec-validator` brings along) against the response schema of its
operation and status, in both directions: what the schema requires must be
there with the documented types, and every member the answer carries must be
documented (objects are closed with `unevaluatedProperties: false`, except the
parts of an `allOf`, which the whole closes), and formats (`date`) and
patterns (the UTC timestamps) hold. Prints one line per problem and exits 1
when there is any.
"""
import copy
import json
import sys

from jsonschema import Draft202012Validator


def allof_parts(node, out):
    """Component names used as `allOf` parts (closed by the schema using them)."""
    if isinstance(node, dict):
        for part in node.get("allOf", []):
            ref = part.get("$ref", "") if isinstance(part, dict) else ""
            if ref.startswith("#/components/schemas/"):
                out.add(ref.rsplit("/", 1)[1])
        for v in node.values():
            allof_parts(v, out)
    elif isinstance(node, list):
        for v in node:
            allof_parts(v, out)


def close(node, inside_allof=False):
    """Adds `unevaluatedProperties: false` to every object schema not inside an allOf."""
    if isinstance(node, dict):
        is_object = "properties" in node or "allOf" in node
        if is_object and not inside_allof and "additionalProperties" not in node and "unevaluatedProperties" not in node:
            node["unevaluatedProperties"] = False
        for k, v in node.items():
            if k == "allOf" and isinstance(v, list):
                for part in v:
                    close(part, inside_allof=True)
            elif k in ("oneOf", "anyOf") and isinstance(v, list):
                # The branches of a part are closed by the whole too.
                for part in v:
                    close(part, inside_allof=inside_allof)
            elif k in ("properties", "$defs") and isinstance(v, dict):
                for sub in v.values():
                    close(sub)
            elif isinstance(v, (dict, list)):
                close(v)
    elif isinstance(node, list):
        for v in node:
            close(v)


def main():
    data = json.load(open(sys.argv[1], encoding="utf-8"))
    doc = data["doc"]
    components = copy.deepcopy(doc["components"])
    parts = set()
    allof_parts(doc, parts)
    for name, schema in components["schemas"].items():
        close(schema, inside_allof=name in parts)
    problems = []
    for s in data["samples"]:
        label = f'{s["method"].upper()} {s["path"]} {s["status"]}'
        op = doc["paths"].get(s["path"], {}).get(s["method"])
        if op is None:
            problems.append(f"{label}: not in the document")
            continue
        resp = op["responses"].get(str(s["status"]))
        if resp is None:
            problems.append(f"{label}: status not documented")
            continue
        media = [m for t, m in resp.get("content", {}).items() if t.endswith("json")]
        schema = media[0].get("schema") if media else None
        if schema is None:
            problems.append(f"{label}: no JSON schema")
            continue
        root = copy.deepcopy(schema)
        close(root)
        root["components"] = components
        validator = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for e in sorted(validator.iter_errors(s["body"]), key=lambda e: list(e.absolute_path))[:5]:
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            problems.append(f"{label} at {where}: {e.message[:300]}")
    for p in problems:
        print(p)
    print(f"{len(data['samples'])} answers checked, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
