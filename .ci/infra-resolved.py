"""The resolved resource set of infra/template.yaml, for comparing two versions of the template.

    bash .ci/infra.sh resolved > before.json   (then change the template)
    bash .ci/infra.sh resolved > after.json && diff before.json after.json

Expands what the AWS::LanguageExtensions transform expands (every Fn::ForEach, nested too:
the identifier replaced in keys and strings, a Ref to it replaced by the item), then resolves
Fn::FindInMap with literal keys and a Fn::Sub whose variables are all literal; nothing else
(parameters stay references, conditions stay Fn::If with both branches), so the dump shows what
the template says, not one deployment of it. Printed as JSON with sorted keys: every resource
with its type, condition, policies and properties (IAM statements, alarm metrics and thresholds,
function environment, timeout, memory, events), and the conditions and outputs. Comments,
layout and the way a value is written (loop, mapping, literal) do not show; a change of what
CloudFormation receives does. The lint (`sam validate --lint`, `cfn-lint`) and `sam build`
check the same template with AWS's own expansion.
"""

import json
import re
import sys

from samcli.yamlhelper import yaml_parse


def substitute(v, ident, item):
    if isinstance(v, str):
        return v.replace("${%s}" % ident, item).replace("&{%s}" % ident, item)
    if isinstance(v, list):
        return [substitute(x, ident, item) for x in v]
    if isinstance(v, dict):
        if v == {"Ref": ident}:
            return item
        return {substitute(k, ident, item): substitute(x, ident, item) for k, x in v.items()}
    return v


def expand_for_each(v, mappings):
    if isinstance(v, list):
        return [expand_for_each(x, mappings) for x in v]
    if not isinstance(v, dict):
        return v
    out = {}
    for k, x in v.items():
        if k.startswith("Fn::ForEach::"):
            ident, collection, fragment = x
            collection = resolve(collection, mappings)
            assert isinstance(collection, list), f"{k}: the collection is not a literal list"
            for item in collection:
                for k2, x2 in expand_for_each(substitute(fragment, ident, item), mappings).items():
                    assert k2 not in out, f"{k2} twice"
                    out[k2] = x2
        else:
            assert k not in out, f"{k} twice"
            out[k] = expand_for_each(x, mappings)
    return out


def literal(v):
    return isinstance(v, (str, int, float)) and not isinstance(v, bool)


def resolve(v, mappings):
    if isinstance(v, list):
        return [resolve(x, mappings) for x in v]
    if not isinstance(v, dict):
        return v
    v = {k: resolve(x, mappings) for k, x in v.items()}
    if len(v) != 1:
        return v
    (k, arg), = v.items()
    if k == "Fn::FindInMap" and all(isinstance(a, str) for a in arg):
        found = mappings[arg[0]][arg[1]][arg[2]]
        return found
    if k == "Fn::Sub" and isinstance(arg, list) and len(arg) == 2:
        text, variables = arg
        if all(literal(x) for x in variables.values()):
            for name, x in variables.items():
                text = text.replace("${%s}" % name, str(x))
            return {"Fn::Sub": text}
        return v
    if k in ("Ref", "Fn::GetAtt") and isinstance(arg, dict) and "Fn::Sub" in arg:
        inner = arg["Fn::Sub"]
        if isinstance(inner, str) and "${" not in inner:
            return {k: inner.split(".", 1) if k == "Fn::GetAtt" else inner}
    if k == "Fn::GetAtt" and isinstance(arg, list):
        parts = [a["Fn::Sub"] if isinstance(a, dict) and "Fn::Sub" in a else a for a in arg]
        if all(isinstance(a, str) and "${" not in a for a in parts):
            return {k: parts}
    return v


def normalise(v):
    if isinstance(v, dict):
        if len(v) == 1:
            (k, arg), = v.items()
            if k == "Fn::GetAtt" and isinstance(arg, str):
                return {k: arg.split(".", 1)}
            if k == "Fn::Sub" and isinstance(arg, str) and not re.search(r"\$\{[^!]", arg):
                return arg
        return {k: normalise(x) for k, x in v.items()}
    if isinstance(v, list):
        return [normalise(x) for x in v]
    # CloudFormation passes numbers to resources as strings or numbers alike.
    if literal(v):
        return str(v)
    return v


def main(path):
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    mappings = template.get("Mappings", {})
    resources = normalise(resolve(expand_for_each(template["Resources"], mappings), mappings))
    out = {
        "Resources": resources,
        "Conditions": normalise(template.get("Conditions", {})),
        "Outputs": normalise(resolve(template.get("Outputs", {}), mappings)),
        "Parameters": normalise(template.get("Parameters", {})),
        "Rules": normalise(template.get("Rules", {})),
        "Globals": normalise(resolve(template.get("Globals", {}), mappings)),
    }
    text = json.dumps(out, indent=1, sort_keys=True)
    assert "Fn::ForEach" not in text and "Fn::FindInMap" not in text, "something left unexpanded"
    print(text)
    counts = {}
    for r in resources.values():
        counts[r["Type"]] = counts.get(r["Type"], 0) + 1
    print(f"{len(resources)} resources: " + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml")
