//! The SAM template (`infra/template.yaml`) against the workspace: every crate under
//! `functions/` has its function resource (built from that crate's binary), its Alipay+ route or
//! its event sources, its role and log group; nothing in the template builds a crate that does not
//! exist; each role grants exactly what `infra/policies.md` writes down; only the function roles
//! may use the KMS keys; only the functions that must call out can reach the internet; the tables
//! are the store's tables; every environment variable set is one the code reads; every alarm
//! reads a metric the code emits (EMF, `mpp_aws::metrics`), in the stack's namespace.
//!
//! The template is parsed with `serde_norway` (serde_yaml's maintained fork): CloudFormation's
//! short forms (`!Ref`, `!GetAtt`, `!Sub`, `!If`) arrive as tagged values; the long forms
//! (`Ref:`, `Fn::GetAtt:`) are read as well. An `!If` counts with both branches: a permission
//! that exists under one setting of the parameters must be in the table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test-only file

use serde_norway::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where Alipay+ calls the MPP.
const ROUTE_PREFIX: &str = "/aps/api/v1/payments/";

/// Functions that must reach the internet, and why: everything else runs without a route out.
const CALLS_OUT: &[(&str, &str)] = &[
    ("notify-payment", "POSTs notifyPayment to Alipay+"),
    ("auth-notify", "POSTs authNotify to Alipay+"),
    ("get-payment-code", "calls getPaymentCode at Alipay+"),
    ("consult-unbinding", "calls consultUnbinding at Alipay+"),
    (
        "send-otp",
        "sends the OTP through SNS and SES (public endpoints)",
    ),
];

/// The API the MPP's own app backend calls (IAM-authorised), apart from the one Alipay+ calls.
const INTERNAL_API: &str = "InternalApi";

/// Variables the code reads that the template deliberately does not set.
const NOT_DEPLOYED: &[(&str, &str)] = &[
    (
        "SIGNING_KEY_PEM",
        "the local signer is for development only",
    ),
    ("DYNAMODB_ENDPOINT", "DynamoDB Local only"),
    ("KMS_ENDPOINT", "moto only"),
];

/// Variables set for a library rather than our code.
const READ_BY_LIBRARIES: &[(&str, &str)] = &[(
    "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH",
    "lambda_http: drop the stage from the path (custom domain)",
)];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(path: impl AsRef<Path>) -> String {
    let path = root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The crates.

/// A crate under `functions/`.
#[derive(Debug)]
struct FunctionCrate {
    /// The directory name (`pay`), also the package name.
    dir: String,
    /// `[package] name`.
    package: String,
    /// `[[bin]] name`s.
    bins: Vec<String>,
    /// `handler::OPERATION`: the route's last segment and the `flow` log field.
    operation: String,
    /// Served through API Gateway (depends on `lambda_http`) rather than by event sources.
    http: bool,
    /// `handler::INTERNAL_ROUTE`: served to the MPP's own app backend on the internal,
    /// IAM-authorised API instead of to Alipay+.
    internal_route: Option<String>,
    /// The operation table's row for this function.
    table: &'static mpp_core::operations::Operation,
}

impl FunctionCrate {
    /// `PayFunction` for `pay`.
    fn resource(&self) -> String {
        let camel: String = self
            .dir
            .split(['-', '_'])
            .map(|part| {
                let mut c = part.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        format!("{camel}Function")
    }
}

fn function_crates() -> Vec<FunctionCrate> {
    let mut crates: Vec<FunctionCrate> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| read_crate(&p))
        .collect();
    crates.sort_by(|a, b| a.dir.cmp(&b.dir));
    assert!(!crates.is_empty(), "no crates under functions/");
    crates
}

fn read_crate(dir: &Path) -> FunctionCrate {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let (mut package, mut bins, mut http) = (None, Vec::new(), false);
    let mut section = String::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        let value = || {
            line.split_once('=')
                .map(|(_, v)| v.trim().trim_matches('"').to_string())
        };
        match section.as_str() {
            "[package]" if line.starts_with("name ") || line.starts_with("name=") => {
                package = value()
            }
            "[[bin]]" if line.starts_with("name ") || line.starts_with("name=") => {
                bins.extend(value())
            }
            "[dependencies]" if line.starts_with("lambda_http") => http = true,
            _ => {}
        }
    }
    let dir_name = dir.file_name().unwrap().to_string_lossy().to_string();
    let handler = std::fs::read_to_string(dir.join("src/handler.rs")).unwrap_or_default();
    // The operation table names what each function serves; the handler declares it from there.
    let table = mpp_core::operations::by_function(&dir_name)
        .unwrap_or_else(|| panic!("functions/{dir_name} is in no row of mpp_core::operations"));
    let operation = table.name.to_string();
    assert!(
        handler.contains("pub const OPERATION: &str = mpp_core::operations::"),
        "functions/{dir_name}/src/handler.rs must take OPERATION from the operation table"
    );
    let internal_route = match table.direction {
        mpp_core::operations::Direction::Internal => Some(table.route.to_string()),
        mpp_core::operations::Direction::Inbound
        | mpp_core::operations::Direction::Outbound
        | mpp_core::operations::Direction::Landed
        | mpp_core::operations::Direction::Page => None,
    };
    FunctionCrate {
        table,
        internal_route,
        package: package.unwrap_or_else(|| panic!("functions/{dir_name}: no package name")),
        bins,
        operation,
        http,
        dir: dir_name,
    }
}

// ---------------------------------------------------------------------------------------------
// The template.

fn template() -> Value {
    let raw: Value =
        serde_norway::from_str(&read("infra/template.yaml")).expect("infra/template.yaml parses");
    expand(raw)
}

// ---------------------------------------------------------------------------------------------
// The `AWS::LanguageExtensions` transform, as far as the template uses it: the checks below read
// the template CloudFormation deploys, so `Fn::ForEach` loops are expanded (the identifier
// replaced in keys and in every string, `Ref` to it replaced by the item), then `Fn::FindInMap`
// with literal keys is looked up in `Mappings`, and a `!Sub` left without variables becomes its
// string. `sam validate --lint --language-extensions` and `cfn-lint` (.ci/infra.sh) check the
// same template with AWS's own expansion.

fn expand(mut t: Value) -> Value {
    let mappings = t.get("Mappings").cloned().unwrap_or(Value::Null);
    if let Some(resources) = t.get_mut("Resources") {
        let expanded = expand_for_each(resources.clone(), &mappings);
        *resources = expanded;
    }
    resolve(t, &mappings)
}

/// Expands every `Fn::ForEach::Name: [Identifier, collection, {fragment}]` key of a mapping;
/// the collection is a literal list or a `Fn::FindInMap` of one (an inner loop's, over a list
/// the outer loop's item picks).
fn expand_for_each(v: Value, mappings: &Value) -> Value {
    let Value::Mapping(m) = v else { return v };
    let mut out = Mapping::new();
    for (k, v) in m {
        let key = k.as_str().unwrap_or_default().to_string();
        if key.starts_with("Fn::ForEach::") {
            let args = v.as_sequence().expect("Fn::ForEach takes a list");
            let id = args[0].as_str().expect("Fn::ForEach identifier");
            let collection = resolve(args[1].clone(), mappings);
            for item in collection
                .as_sequence()
                .unwrap_or_else(|| panic!("{key}: a list or a FindInMap of one"))
            {
                let item = item.as_str().expect("string items");
                let fragment = substitute(args[2].clone(), id, item);
                let Value::Mapping(fragment) = expand_for_each(fragment, mappings) else {
                    panic!("Fn::ForEach fragment is a mapping")
                };
                for (k, v) in fragment {
                    assert!(out.insert(k.clone(), v).is_none(), "{k:?} twice");
                }
            }
        } else {
            out.insert(k, v);
        }
    }
    Value::Mapping(out)
}

fn substitute(v: Value, id: &str, item: &str) -> Value {
    let in_text = |s: &str| {
        s.replace(&format!("${{{id}}}"), item)
            .replace(&format!("&{{{id}}}"), item)
    };
    match v {
        Value::String(s) => Value::String(in_text(&s)),
        Value::Sequence(s) => {
            Value::Sequence(s.into_iter().map(|x| substitute(x, id, item)).collect())
        }
        Value::Mapping(m) => {
            if ref_of(&Value::Mapping(m.clone())) == Some(id) {
                return Value::String(item.to_string());
            }
            Value::Mapping(
                m.into_iter()
                    .map(|(k, v)| (substitute(k, id, item), substitute(v, id, item)))
                    .collect(),
            )
        }
        Value::Tagged(t) => {
            if t.tag == "Ref" && t.value.as_str() == Some(id) {
                return Value::String(item.to_string());
            }
            let tag = t.tag.clone();
            Value::Tagged(Box::new(serde_norway::value::TaggedValue {
                tag,
                value: substitute(t.value, id, item),
            }))
        }
        other => other,
    }
}

/// Resolves `Fn::FindInMap` with literal keys, `Ref`/`GetAtt` whose argument is a resolved
/// `!Sub`, and `!Sub`s without variables left.
fn resolve(v: Value, mappings: &Value) -> Value {
    let v = match v {
        Value::Sequence(s) => {
            Value::Sequence(s.into_iter().map(|x| resolve(x, mappings)).collect())
        }
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .map(|(k, v)| (k, resolve(v, mappings)))
                .collect(),
        ),
        Value::Tagged(t) => {
            let tag = t.tag.clone();
            Value::Tagged(Box::new(serde_norway::value::TaggedValue {
                tag,
                value: resolve(t.value, mappings),
            }))
        }
        other => other,
    };
    let Some((name, arg)) = intrinsic(&v) else {
        return v;
    };
    match (name.as_str(), arg) {
        ("FindInMap", Value::Sequence(keys)) if keys.iter().all(Value::is_string) => {
            let found = &mappings[keys[0].as_str().unwrap()][keys[1].as_str().unwrap()]
                [keys[2].as_str().unwrap()];
            assert!(!found.is_null(), "FindInMap {keys:?}: no such entry");
            // Mappings hold strings; numbers come back as numbers, as CloudFormation coerces.
            match found.as_str().and_then(|s| s.parse::<u64>().ok()) {
                Some(n) => Value::Number(n.into()),
                None => found.clone(),
            }
        }
        ("Sub", Value::String(s)) if !s.contains("${") => Value::String(s.clone()),
        ("Sub", Value::Sequence(parts)) if parts.len() == 2 => {
            let mut text = parts[0].as_str().unwrap_or_default().to_string();
            if let Some(vars) = parts[1].as_mapping() {
                for (k, val) in vars {
                    let val = match val {
                        Value::Number(n) => n.to_string(),
                        other => match other.as_str() {
                            Some(s) => s.to_string(),
                            None => return v,
                        },
                    };
                    text = text.replace(&format!("${{{}}}", k.as_str().unwrap_or_default()), &val);
                }
            }
            if text.contains("${") {
                Value::Tagged(Box::new(serde_norway::value::TaggedValue {
                    tag: serde_norway::value::Tag::new("Sub"),
                    value: Value::String(text),
                }))
            } else {
                Value::String(text)
            }
        }
        ("Ref", Value::String(_)) => v.clone(),
        ("Ref", inner) => match inner.as_str() {
            Some(id) => Value::Tagged(Box::new(serde_norway::value::TaggedValue {
                tag: serde_norway::value::Tag::new("Ref"),
                value: Value::String(id.to_string()),
            })),
            None => v.clone(),
        },
        _ => v.clone(),
    }
}

#[test]
fn the_expansion_makes_every_generated_resource_once() {
    let t = template();
    let raw: Value = serde_norway::from_str(&read("infra/template.yaml")).unwrap();
    let resources = resources(&t);
    assert!(resources
        .keys()
        .all(|k| !k.as_str().unwrap().starts_with("Fn::")));
    // Nothing is left unexpanded or unresolved in what the checks read.
    let text = serde_norway::to_string(resources).unwrap();
    let identifiers = loop_identifiers(&raw["Resources"]);
    assert!(identifiers.contains("Op") && identifiers.contains("Outbox"));
    for id in &identifiers {
        for form in [format!("${{{id}}}"), format!("&{{{id}}}")] {
            assert!(!text.contains(&form), "the loop identifier {form} survived");
        }
    }
    assert!(!text.contains("FindInMap"), "a FindInMap survived");
    // Every row of the Operations mapping is a function of the loop, and the other way round.
    let rows = operation_rows(&raw);
    for row in &rows {
        assert!(resource(&t, &format!("{row}Function")).is_some(), "{row}");
        let name = raw["Mappings"]["Operations"][row.as_str()]["Name"]
            .as_str()
            .unwrap();
        let op = mpp_core::operations::by_name(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            op.resource_prefix(),
            *row,
            "{name}: the logical id is the Alipay+ name"
        );
    }
}

/// The row names of the template's `Operations` mapping (`Pay`, `InquiryPayment`, ...).
fn operation_rows(raw: &Value) -> BTreeSet<String> {
    raw["Mappings"]["Operations"]
        .as_mapping()
        .expect("an Operations mapping")
        .keys()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
}

/// The `FunctionKinds` mapping sorts the functions for the loops: every row of `Operations` is
/// a member of exactly one kind (`URated` aside, which only adds a U-rate alarm to written-out
/// ones), so each function gets one log group and one role, and a kind's members are rows.
#[test]
fn every_function_is_of_one_kind() {
    let raw: Value = serde_norway::from_str(&read("infra/template.yaml")).unwrap();
    let rows = operation_rows(&raw);
    let mut kind_of: BTreeMap<String, String> = BTreeMap::new();
    for (kind, v) in raw["Mappings"]["FunctionKinds"].as_mapping().unwrap() {
        let kind = kind.as_str().unwrap();
        for member in strings(&v["Members"]) {
            assert!(
                rows.contains(&member),
                "{kind}: {member} is no Operations row"
            );
            if kind != "URated" {
                let before = kind_of.insert(member.clone(), kind.to_string());
                assert!(
                    before.is_none(),
                    "{member}: of two kinds, {before:?} and {kind}"
                );
            }
        }
    }
    let sorted: BTreeSet<String> = kind_of.keys().cloned().collect();
    assert_eq!(sorted, rows, "every Operations row is of a kind");
}

/// The identifiers of every `Fn::ForEach` in `v`, nested ones included.
fn loop_identifiers(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match v {
        Value::Mapping(m) => {
            for (k, x) in m {
                if k.as_str().is_some_and(|k| k.starts_with("Fn::ForEach::")) {
                    if let Some(id) = x.get(0).and_then(Value::as_str) {
                        out.insert(id.to_string());
                    }
                }
                out.extend(loop_identifiers(x));
            }
        }
        Value::Sequence(s) => s.iter().for_each(|x| out.extend(loop_identifiers(x))),
        Value::Tagged(t) => out.extend(loop_identifiers(&t.value)),
        _ => {}
    }
    out
}

fn resources(t: &Value) -> &Mapping {
    t.get("Resources")
        .and_then(Value::as_mapping)
        .expect("Resources")
}

fn resource<'t>(t: &'t Value, id: &str) -> Option<&'t Value> {
    resources(t).get(id)
}

fn of_type<'t>(t: &'t Value, kind: &str) -> Vec<(String, &'t Value)> {
    resources(t)
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap().to_string(), r))
        .collect()
}

fn props(r: &Value) -> &Value {
    r.get("Properties").unwrap_or(&Value::Null)
}

/// `(name, argument)` of an intrinsic function in either form: `!GetAtt X.Arn` and
/// `{"Fn::GetAtt": [X, Arn]}` both give `("GetAtt", ...)`.
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next()?;
            let k = k.as_str()?;
            (k == "Ref" || k.starts_with("Fn::"))
                .then(|| (k.trim_start_matches("Fn::").to_string(), arg))
        }
        _ => None,
    }
}

/// `X.Arn` for `!GetAtt X.Arn` or `Fn::GetAtt: [X, Arn]`.
fn get_att(v: &Value) -> Option<String> {
    match intrinsic(v)? {
        (name, Value::String(s)) if name == "GetAtt" => Some(s.clone()),
        (name, Value::Sequence(parts)) if name == "GetAtt" => Some(
            parts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("."),
        ),
        _ => None,
    }
}

fn ref_of(v: &Value) -> Option<&str> {
    match intrinsic(v)? {
        (name, arg) if name == "Ref" => arg.as_str(),
        _ => None,
    }
}

/// The values `v` can take: both branches of an `!If`, nothing for `AWS::NoValue`.
fn branches(v: &Value) -> Vec<&Value> {
    match intrinsic(v) {
        Some((name, Value::Sequence(args))) if name == "If" && args.len() == 3 => {
            args[1..].iter().flat_map(branches).collect()
        }
        _ if ref_of(v) == Some("AWS::NoValue") => Vec::new(),
        _ => vec![v],
    }
}

/// A list (or one value) with `!If`s expanded.
fn items(v: &Value) -> Vec<&Value> {
    branches(v)
        .into_iter()
        .flat_map(|v| match v {
            Value::Sequence(s) => s.iter().flat_map(branches).collect(),
            other => vec![other],
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    items(v)
        .into_iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// A policy `Resource` as the table writes it: `X` for `X.Arn`, `X.StreamArn`, `*`, or the
/// `!Sub` text.
fn resource_names(v: &Value) -> Vec<String> {
    items(v)
        .into_iter()
        .map(|r| {
            if let Some(att) = get_att(r) {
                att.strip_suffix(".Arn").map(str::to_string).unwrap_or(att)
            } else if let Some(id) = ref_of(r) {
                id.to_string()
            } else if let Some(s) = r.as_str() {
                s.to_string()
            } else {
                format!("{r:?}")
            }
        })
        .collect()
}

fn statements(document: &Value) -> Vec<&Value> {
    branches(document)
        .into_iter()
        .flat_map(|d| items(&d["Statement"]))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Functions, builds and routes.

#[test]
fn every_function_crate_has_its_resource_built_from_its_binary() {
    let t = template();
    for c in function_crates() {
        let id = c.resource();
        let r = resource(&t, &id)
            .unwrap_or_else(|| panic!("functions/{}: no {id} in the template", c.dir));
        assert_eq!(
            props(r)["Timeout"].as_u64(),
            Some(c.table.function_timeout.as_secs()),
            "{id}: Timeout is the operation table's function_timeout"
        );
        assert_eq!(
            r["Type"].as_str(),
            Some("AWS::Serverless::Function"),
            "{id}"
        );
        assert_eq!(
            r["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{id}"
        );
        let binary = r["Metadata"]["BuildProperties"]["Binary"].as_str();
        assert!(
            binary.is_some_and(|b| c.bins.iter().any(|x| x == b)),
            "{id}: Binary {binary:?} is not a [[bin]] of {} ({:?})",
            c.package,
            c.bins
        );
        assert_eq!(
            props(r)["CodeUri"].as_str(),
            Some(format!("../functions/{}", c.dir).as_str()),
            "{id}"
        );
        assert_eq!(
            get_att(&props(r)["Role"]),
            Some(format!("{id}Role.Arn")),
            "{id}: its own role"
        );
        let log_group = ref_of(&props(r)["LoggingConfig"]["LogGroup"]);
        let expected = id.replace("Function", "LogGroup");
        assert_eq!(
            log_group,
            Some(expected.as_str()),
            "{id}: its own log group"
        );
        assert!(
            resource(&t, &expected).is_some(),
            "{id}: {expected} missing"
        );
    }
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(strings(&globals["Architectures"]), ["arm64"]);
    assert_eq!(globals["Tracing"].as_str(), Some("Active"));
}

/// The `!Sub` text of `v` (a `!Sub` with its variables resolved, or a plain string).
fn sub_text(v: &Value) -> Option<String> {
    match intrinsic(v) {
        Some((name, Value::String(s))) if name == "Sub" => Some(s.clone()),
        None => v.as_str().map(str::to_string),
        _ => None,
    }
}

/// What the LogGroups, VpcFunctionRoles and PublicFunctionRoles loops (and the written-out
/// get-payment-code) make for each function crate: a log group named as Lambda names the
/// function's, kept `LogRetentionDays`; a role that Lambda assumes, that writes that log group
/// and no other, whose other grants are its own `<Op>TablesPolicy` only, and that may manage
/// network interfaces exactly when its function runs in the VPC (a function in the wrong role
/// loop fails here, not at deploy time).
#[test]
fn every_function_has_its_own_log_group_and_a_role_shaped_by_where_it_runs() {
    let t = template();
    let eni = "ec2:CreateNetworkInterface".to_string();
    for c in function_crates() {
        let id = c.resource();
        let prefix = id.trim_end_matches("Function");
        let f = props(resource(&t, &id).unwrap());
        let name = format!("${{AWS::StackName}}-{}", c.dir);
        assert_eq!(sub_text(&f["FunctionName"]), Some(name.clone()), "{id}");
        let log_group = resource(&t, &format!("{prefix}LogGroup"))
            .unwrap_or_else(|| panic!("{prefix}LogGroup missing"));
        assert_eq!(log_group["Type"].as_str(), Some("AWS::Logs::LogGroup"));
        assert_eq!(
            sub_text(&props(log_group)["LogGroupName"]),
            Some(format!("/aws/lambda/{name}")),
            "{prefix}LogGroup: the function's own name"
        );
        assert_eq!(
            ref_of(&props(log_group)["RetentionInDays"]),
            Some("LogRetentionDays"),
            "{prefix}LogGroup"
        );

        let role_id = format!("{id}Role");
        let role = props(resource(&t, &role_id).unwrap());
        let assume = statements(&role["AssumeRolePolicyDocument"]);
        assert_eq!(assume.len(), 1, "{role_id}: one trust statement");
        assert_eq!(
            assume[0]["Principal"]["Service"].as_str(),
            Some("lambda.amazonaws.com"),
            "{role_id}: only Lambda assumes it"
        );
        let inline: Vec<&Value> = items(&role["Policies"]);
        let logs: Vec<&Value> = inline
            .iter()
            .filter(|p| p["PolicyName"].as_str() == Some("logs-and-traces"))
            .flat_map(|p| statements(&p["PolicyDocument"]))
            .filter(|s| strings(&s["Action"]).contains(&"logs:PutLogEvents".to_string()))
            .collect();
        assert_eq!(logs.len(), 1, "{role_id}: one logs statement");
        assert_eq!(
            get_att(&logs[0]["Resource"]),
            Some(format!("{prefix}LogGroup.Arn")),
            "{role_id}: writes its own log group only"
        );
        let managed: Vec<&str> = items(&role["ManagedPolicyArns"])
            .into_iter()
            .filter_map(ref_of)
            .collect();
        let tables = format!("{prefix}TablesPolicy");
        assert!(
            managed.is_empty() || managed == [tables.as_str()],
            "{role_id}: its own {tables} only, not {managed:?}"
        );
        let in_vpc = !f["VpcConfig"].is_null();
        let may_manage_interfaces = inline
            .iter()
            .flat_map(|p| statements(&p["PolicyDocument"]))
            .any(|s| strings(&s["Action"]).contains(&eni));
        assert_eq!(
            may_manage_interfaces, in_vpc,
            "{role_id}: may manage network interfaces exactly when {id} runs in the VPC"
        );
    }
}

#[test]
fn nothing_in_the_template_builds_a_crate_that_does_not_exist() {
    let t = template();
    let crates = function_crates();
    for (id, r) in of_type(&t, "AWS::Serverless::Function") {
        let code_uri = props(r)["CodeUri"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: CodeUri"));
        let dir = root().join("infra").join(code_uri);
        assert!(
            dir.join("Cargo.toml").is_file(),
            "{id}: CodeUri {code_uri} is not a crate"
        );
        let c = crates
            .iter()
            .find(|c| {
                root().join("functions").join(&c.dir).canonicalize().ok() == dir.canonicalize().ok()
            })
            .unwrap_or_else(|| panic!("{id}: {code_uri} is not a crate under functions/"));
        assert_eq!(c.resource(), id, "{id} builds functions/{}", c.dir);
        let binary = r["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_default();
        assert!(
            c.bins.iter().any(|b| b == binary),
            "{id}: no binary {binary:?} in {}",
            c.dir
        );
    }
}

fn events(function: &Value) -> Vec<(String, &Value)> {
    props(function)["Events"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_string(), v))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_alipay_facing_function_has_its_route_deadline_and_metrics() {
    let t = template();
    let mut routes = BTreeSet::new();
    for c in function_crates()
        .iter()
        .filter(|c| c.http && c.internal_route.is_none())
    {
        let id = c.resource();
        let f = resource(&t, &id).unwrap();
        let api: Vec<_> = events(f)
            .into_iter()
            .filter(|(_, e)| e["Type"].as_str() == Some("Api"))
            .collect();
        // A page (the authorization page) is opened with GET and sent with POST; an Alipay+
        // operation is POST only.
        let page = c.table.direction == mpp_core::operations::Direction::Page;
        let methods: &[&str] = if page { &["get", "post"] } else { &["post"] };
        assert_eq!(api.len(), methods.len(), "{id}: one Api event per method");
        let path = c.table.path();
        if c.table.prefix == mpp_core::operations::PATH_PREFIX {
            assert_eq!(path, format!("{ROUTE_PREFIX}{}", c.operation), "{id}");
        }
        let p = props(api[0].1);
        for (_, e) in &api {
            let p = props(e);
            assert_eq!(p["Path"].as_str(), Some(path.as_str()), "{id}: route");
            assert_eq!(ref_of(&p["RestApiId"]), Some("MppApi"), "{id}");
        }
        let mut seen: Vec<String> = api
            .iter()
            .filter_map(|(_, e)| props(e)["Method"].as_str().map(str::to_ascii_lowercase))
            .collect();
        seen.sort();
        assert_eq!(seen, methods, "{id}: methods");
        assert!(routes.insert(path), "{id}: route used twice");
        let timeout_s = props(f)["Timeout"]
            .as_u64()
            .unwrap_or_else(|| panic!("{id}: Timeout"));
        assert!(timeout_s <= 8, "{id}: Alipay+ waits 8 s at most");
        assert_eq!(
            timeout_s,
            c.table.wait.as_secs(),
            "{id}: the API deadline is the operation table's wait"
        );
        assert_eq!(
            p["TimeoutInMillis"].as_u64(),
            Some(timeout_s * 1000),
            "{id}: API Gateway deadline"
        );
        // The flow's alarms name it as the `flow` dimension of the EMF lines does.
        let flow_alarms = of_type(&t, "AWS::CloudWatch::Alarm")
            .into_iter()
            .filter(|(_, a)| mentions(a, "flow", &c.operation))
            .count();
        assert!(flow_alarms >= 1, "{id}: no alarm on flow={}", c.operation);
        // And among them its U-rate alarm (the URateAlarms loop).
        let u_alarm = format!("{}URateAlarm", id.trim_end_matches("Function"));
        let u_alarm = resource(&t, &u_alarm).unwrap_or_else(|| panic!("{u_alarm}"));
        assert!(
            mentions(u_alarm, "flow", &c.operation),
            "{id}: U-rate alarm"
        );
    }
    let api = props(resource(&t, "MppApi").expect("MppApi"));
    assert_eq!(
        strings(&api["BinaryMediaTypes"]),
        ["*~1*"],
        "raw bodies for the signatures"
    );
    let access_logs = get_att(&api["AccessLogSetting"]["DestinationArn"]).unwrap_or_default();
    let access_logs = resource(&t, access_logs.trim_end_matches(".Arn"));
    assert_eq!(
        access_logs.and_then(|g| g["Type"].as_str()),
        Some("AWS::Logs::LogGroup"),
        "access logs"
    );
}

#[test]
fn internal_functions_are_only_on_the_iam_authorised_api() {
    let t = template();
    let internal: Vec<FunctionCrate> = function_crates()
        .into_iter()
        .filter(|c| c.internal_route.is_some())
        .collect();
    assert!(
        !internal.is_empty(),
        "the getPaymentCode function is internal"
    );
    let api = props(resource(&t, INTERNAL_API).expect("InternalApi"));
    assert_eq!(
        api["Auth"]["DefaultAuthorizer"].as_str(),
        Some("AWS_IAM"),
        "every route of the internal API needs SigV4"
    );
    for c in internal {
        let id = c.resource();
        let f = resource(&t, &id).unwrap();
        let api_events: Vec<_> = events(f)
            .into_iter()
            .filter(|(_, e)| e["Type"].as_str() == Some("Api"))
            .collect();
        assert_eq!(api_events.len(), 1, "{id}: one Api event");
        let p = props(api_events[0].1);
        assert_eq!(
            ref_of(&p["RestApiId"]),
            Some(INTERNAL_API),
            "{id}: not on MppApi"
        );
        assert_eq!(
            p["Path"].as_str(),
            c.internal_route.as_deref(),
            "{id}: route"
        );
        assert!(
            c.internal_route
                .as_deref()
                .is_some_and(|r| r.ends_with(&format!("/{}", c.operation))),
            "{id}: the route names the operation"
        );
        assert_eq!(p["Auth"]["Authorizer"].as_str(), Some("AWS_IAM"), "{id}");
        let timeout_s = props(f)["Timeout"].as_u64().unwrap();
        assert!(timeout_s <= 8, "{id}");
        assert_eq!(
            p["TimeoutInMillis"].as_u64(),
            Some(timeout_s * 1000),
            "{id}"
        );
    }
    // No route of the Alipay+-facing API reaches an internal function, and vice versa.
    for (id, f) in of_type(&t, "AWS::Serverless::Function") {
        for (_, e) in events(f) {
            if e["Type"].as_str() == Some("Api")
                && ref_of(&props(e)["RestApiId"]) == Some(INTERNAL_API)
            {
                assert!(
                    ["GetPaymentCodeFunction", "ConsultUnbindingFunction"].contains(&id.as_str()),
                    "{id} on the internal API"
                );
            }
        }
    }
}

/// Whether `v` holds a `{Name: name, Value: value}` dimension.
fn mentions(v: &Value, name: &str, value: &str) -> bool {
    match v {
        Value::Mapping(m) => {
            (m.get("Name").and_then(Value::as_str) == Some(name)
                && m.get("Value").and_then(Value::as_str) == Some(value))
                || m.values().any(|x| mentions(x, name, value))
        }
        Value::Sequence(s) => s.iter().any(|x| mentions(x, name, value)),
        Value::Tagged(t) => mentions(&t.value, name, value),
        _ => false,
    }
}

#[test]
fn event_driven_functions_have_bounded_event_sources_that_report_item_failures() {
    let t = template();
    for c in function_crates().iter().filter(|c| !c.http) {
        let id = c.resource();
        let f = resource(&t, &id).unwrap();
        let sources = events(f);
        assert!(!sources.is_empty(), "{id}: no event source");
        let timeout_s = props(f)["Timeout"]
            .as_u64()
            .unwrap_or_else(|| panic!("{id}: Timeout"));
        for (name, e) in sources {
            let p = props(e);
            let reports = strings(&p["FunctionResponseTypes"])
                .contains(&"ReportBatchItemFailures".to_string());
            assert!(reports, "{id}.{name}: ReportBatchItemFailures");
            match e["Type"].as_str() {
                Some("DynamoDB") => check_stream_source(&t, &id, &name, p),
                Some("SQS") => {
                    let queue = get_att(&p["Queue"]).unwrap_or_default();
                    let queue = queue.trim_end_matches(".Arn");
                    let q =
                        resource(&t, queue).unwrap_or_else(|| panic!("{id}.{name}: queue {queue}"));
                    let visibility = props(q)["VisibilityTimeout"].as_u64().unwrap_or(30);
                    assert!(
                        visibility >= timeout_s,
                        "{id}.{name}: visibility timeout below the function timeout"
                    );
                }
                other => panic!("{id}.{name}: unexpected event type {other:?}"),
            }
        }
    }
}

/// A dimension's value: a literal, or the resource it names (`Ref X` → `X`,
/// `GetAtt X.QueueName` → `X`).
fn dimension_value(v: &Value) -> String {
    if let Some(attribute) = get_att(v) {
        return attribute.trim_end_matches(".QueueName").to_string();
    }
    ref_of(v)
        .or_else(|| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// The metrics the alarms watch, as `(metric name, dimension value)`.
fn watched_aws_metrics(t: &Value) -> BTreeSet<(String, String)> {
    of_type(t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .flat_map(|(_, alarm)| alarm_metrics(alarm))
        .flat_map(|(_, name, dims)| dims.into_iter().map(move |(_, v)| (name.clone(), v)))
        .collect()
}

#[test]
fn every_event_driven_function_and_every_queue_of_given_up_work_has_an_alarm() {
    let t = template();
    let watched = watched_aws_metrics(&t);
    // A consumer of a stream or queue answers no caller: its failures are seen only here.
    for c in function_crates().iter().filter(|c| !c.http) {
        let id = c.resource();
        for metric in ["Errors", "Throttles"] {
            assert!(
                watched.contains(&(metric.to_string(), id.clone())),
                "{id}: no alarm on its {metric}"
            );
        }
        let streams = events(resource(&t, &id).unwrap())
            .iter()
            .any(|(_, e)| e["Type"].as_str() == Some("DynamoDB"));
        if streams {
            assert!(
                watched.contains(&("IteratorAge".to_string(), id.clone())),
                "{id}: reads a stream and has no IteratorAge alarm"
            );
        }
    }
    // Work that was given up (a dead letter, a stream batch's failure record) waits for an
    // operator: someone must be told.
    let mut queues = 0;
    for (id, _) in of_type(&t, "AWS::SQS::Queue") {
        if id.ends_with("DeadLetterQueue") || id.ends_with("StreamFailureQueue") {
            queues += 1;
            assert!(
                watched.contains(&("ApproximateNumberOfMessagesVisible".to_string(), id.clone())),
                "{id}: holds given-up work and no alarm watches it"
            );
        }
    }
    assert!(
        queues >= 5,
        "the notifiers' and reconcile's queues: {queues}"
    );
}

fn check_stream_source(t: &Value, id: &str, name: &str, p: &Value) {
    let stream = get_att(&p["Stream"]).unwrap_or_default();
    let table = stream
        .strip_suffix(".StreamArn")
        .unwrap_or_else(|| panic!("{id}.{name}: Stream"));
    let spec = &props(resource(t, table).unwrap())["StreamSpecification"];
    // Payments: both images (notify reads the new one, operators the old); bindings (authNotify's
    // outbox, issue 18): the new image only, which is all the consumer reads.
    let want = match table {
        "BindingsTable" => "NEW_IMAGE",
        _ => "NEW_AND_OLD_IMAGES",
    };
    assert_eq!(spec["StreamViewType"].as_str(), Some(want), "{table}");
    assert_eq!(
        p["BisectBatchOnFunctionError"].as_bool(),
        Some(true),
        "{id}.{name}: bisect"
    );
    let retries = p["MaximumRetryAttempts"].as_i64();
    assert!(
        retries.is_some_and(|r| (0..=100).contains(&r)),
        "{id}.{name}: bounded retries"
    );
    assert_eq!(
        p["StartingPosition"].as_str(),
        Some("TRIM_HORIZON"),
        "{id}.{name}: skip nothing"
    );
    let failure = get_att(&p["DestinationConfig"]["OnFailure"]["Destination"]).unwrap_or_default();
    let queue = resource(t, failure.trim_end_matches(".Arn"));
    assert_eq!(
        queue.and_then(|q| q["Type"].as_str()),
        Some("AWS::SQS::Queue"),
        "{id}.{name}: OnFailure to an SQS queue"
    );
}

// ---------------------------------------------------------------------------------------------
// Permissions.

type Grants = BTreeSet<(String, String, String)>;

/// (function, resource, action) for every Allow of every role policy, both `!If` branches.
fn granted(t: &Value, crates: &[FunctionCrate]) -> Grants {
    let mut out = Grants::new();
    for c in crates {
        let role_id = format!("{}Role", c.resource());
        let role = resource(t, &role_id).unwrap_or_else(|| panic!("{role_id} missing"));
        let mut documents: Vec<&Value> = items(&props(role)["Policies"])
            .into_iter()
            .map(|p| &p["PolicyDocument"])
            .collect();
        // Managed policies only of this template (no AWS-managed ones with their wildcards).
        let managed = &props(role)["ManagedPolicyArns"];
        for arn in items(managed).into_iter().filter(|_| !managed.is_null()) {
            let id = ref_of(arn).unwrap_or_else(|| panic!("{role_id}: {arn:?} is not ours"));
            let policy = resource(t, id).unwrap_or_else(|| panic!("{role_id}: {id} missing"));
            assert_eq!(policy["Type"].as_str(), Some("AWS::IAM::ManagedPolicy"));
            documents.push(&props(policy)["PolicyDocument"]);
        }
        for (_, policy) in of_type(t, "AWS::IAM::Policy") {
            if items(&props(policy)["Roles"])
                .into_iter()
                .any(|r| ref_of(r) == Some(role_id.as_str()))
            {
                documents.push(&props(policy)["PolicyDocument"]);
            }
        }
        for s in documents.into_iter().flat_map(statements) {
            // One Deny exists: send-otp's SNS Publish is narrowed to phone numbers by denying
            // every topic (SNS has no ARN for a phone number). A Deny grants nothing.
            if s["Effect"].as_str() == Some("Deny") {
                assert_eq!(
                    (c.dir.as_str(), strings(&s["Action"])),
                    ("send-otp", vec!["sns:Publish".to_string()]),
                    "{role_id}: only Allow statements (but send-otp's topic Deny)"
                );
                continue;
            }
            assert_eq!(
                s["Effect"].as_str(),
                Some("Allow"),
                "{role_id}: only Allow statements"
            );
            for action in strings(&s["Action"]) {
                for r in resource_names(&s["Resource"]) {
                    out.insert((c.dir.clone(), r, action.clone()));
                }
            }
        }
    }
    out
}

/// The table in `infra/policies.md`.
fn written() -> Grants {
    let text = read("infra/policies.md");
    let table = text
        .split("<!-- policy-table:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- policy-table:end -->").next())
        .expect("infra/policies.md: policy-table markers");
    let list = |cell: &str| -> Vec<String> {
        cell.split(',')
            .map(|x| x.trim().trim_matches('`').to_string())
            .filter(|x| !x.is_empty())
            .collect()
    };
    let mut out = Grants::new();
    for line in table.lines().filter(|l| l.starts_with('|')).skip(2) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert!(cells.len() >= 5, "infra/policies.md: bad row {line}");
        for r in list(cells[2]) {
            for a in list(cells[3]) {
                out.insert((cells[1].to_string(), r.clone(), a));
            }
        }
    }
    out
}

#[test]
fn each_role_grants_exactly_what_infra_policies_md_writes_down() {
    let t = template();
    let crates = function_crates();
    let granted = granted(&t, &crates);
    let written = written();
    let extra: Vec<_> = granted.difference(&written).collect();
    let missing: Vec<_> = written.difference(&granted).collect();
    assert!(
        extra.is_empty(),
        "granted in the template but not in infra/policies.md: {extra:#?}"
    );
    assert!(
        missing.is_empty(),
        "in infra/policies.md but not granted: {missing:#?}"
    );
    for c in &crates {
        assert!(
            granted.iter().any(|(f, ..)| *f == c.dir),
            "{}: no permissions at all",
            c.dir
        );
    }
    for (f, r, a) in &granted {
        assert!(!a.contains('*'), "{f}: wildcard action {a}");
        let service = a.split(':').next().unwrap_or_default();
        // SMS straight to a phone number: SNS has no resource ARN for it (topics are denied).
        let sms = f == "send-otp" && a == "sns:Publish";
        assert!(
            r != "*" || ["xray", "ec2"].contains(&service) || sms,
            "{f}: {a} on every resource"
        );
    }
    let reads = [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
    ];
    for (f, _, a) in granted
        .iter()
        .filter(|(f, ..)| f == "evaluation" || f == "inquiry-payment")
    {
        assert!(
            !a.starts_with("dynamodb:") || reads.contains(&a.as_str()),
            "{f} is read-only: {a}"
        );
    }
}

/// Actions that use a key (as opposed to administering it).
const KEY_USE: &[&str] = &[
    "kms:Sign",
    "kms:Verify",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:CreateGrant",
    "kms:GenerateMac",
];

fn glob(pattern: &str, action: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(action),
        Some((head, tail)) => {
            action.len() >= head.len() + tail.len()
                && action[..head.len()].eq_ignore_ascii_case(head)
                && action[action.len() - tail.len()..].eq_ignore_ascii_case(tail)
        }
    }
}

#[test]
fn only_the_function_roles_may_use_the_keys_and_both_locks_agree() {
    let t = template();
    let crates = function_crates();
    let granted = granted(&t, &crates);
    let role_of: BTreeMap<String, String> = crates
        .iter()
        .map(|c| (format!("{}Role.Arn", c.resource()), c.dir.clone()))
        .collect();
    for (key, k) in of_type(&t, "AWS::KMS::Key") {
        for s in statements(&props(k)["KeyPolicy"]) {
            let uses: Vec<&str> = KEY_USE
                .iter()
                .copied()
                .filter(|u| strings(&s["Action"]).iter().any(|a| glob(a, u)))
                .collect();
            if uses.is_empty() {
                continue;
            }
            let condition = &s["Condition"];
            let via_dynamodb = !condition["StringEquals"]["kms:ViaService"].is_null();
            let principals: BTreeSet<String> = items(&condition["ArnEquals"]["aws:PrincipalArn"])
                .into_iter()
                .map(|p| {
                    get_att(p)
                        .and_then(|a| role_of.get(&a).cloned())
                        .unwrap_or_else(|| format!("{p:?}"))
                })
                .collect();
            let sid = s["Sid"].as_str().unwrap_or("?");
            if via_dynamodb {
                assert!(
                    !uses.contains(&"kms:Sign"),
                    "{key}/{sid}: signing through DynamoDB?"
                );
            } else if uses == ["kms:Encrypt"] {
                assert!(
                    !condition["StringEquals"]["kms:EncryptionContext:purpose"].is_null(),
                    "{key}/{sid}"
                );
            } else {
                for u in uses {
                    let holders: BTreeSet<String> = granted
                        .iter()
                        .filter(|(_, r, a)| r == &key && a == u)
                        .map(|(f, ..)| f.clone())
                        .collect();
                    assert_eq!(
                        principals, holders,
                        "{key}/{sid}: {u} in the key policy and in IAM"
                    );
                }
            }
        }
    }
}

#[test]
fn only_the_functions_that_must_call_out_can_reach_the_internet() {
    let t = template();
    for kind in [
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::Route",
        "AWS::EC2::EgressOnlyInternetGateway",
    ] {
        assert!(
            of_type(&t, kind).is_empty(),
            "{kind}: the functions' VPC has no way out"
        );
    }
    for c in function_crates() {
        let f = resource(&t, &c.resource()).unwrap();
        let in_vpc = !props(f)["VpcConfig"].is_null();
        let may = CALLS_OUT.iter().any(|(name, _)| *name == c.dir);
        assert_eq!(
            !in_vpc, may,
            "{}: outside the VPC exactly when it must call out",
            c.dir
        );
        if in_vpc {
            for v in branches(&props(f)["VpcConfig"]) {
                for subnet in items(&v["SubnetIds"]) {
                    let id = ref_of(subnet).unwrap_or_default();
                    assert_eq!(
                        resource(&t, id).and_then(|s| s["Type"].as_str()),
                        Some("AWS::EC2::Subnet")
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tables and environment.

#[test]
fn the_tables_are_the_stores_tables() {
    let t = template();
    let names = mpp_aws::dynamo::TableNames::with_prefix("${TablePrefix}");
    let wanted: BTreeSet<String> = [
        names.accounts,
        names.access_tokens,
        names.payment_codes,
        names.payments.clone(),
        names.refunds,
        names.ledger,
        names.otps,
        names.bindings.clone(),
    ]
    .into();
    let mut found = BTreeSet::new();
    for (id, table) in of_type(&t, "AWS::DynamoDB::Table") {
        let p = props(table);
        let name = match intrinsic(&p["TableName"]) {
            Some((f, Value::String(s))) if f == "Sub" => s.clone(),
            other => panic!("{id}: TableName {other:?}"),
        };
        assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"), "{id}");
        assert_eq!(
            p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
            Some(true),
            "{id}"
        );
        assert_eq!(p["DeletionProtectionEnabled"].as_bool(), Some(true), "{id}");
        assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"), "{id}");
        assert_eq!(
            p["SSESpecification"]["SSEType"].as_str(),
            Some("KMS"),
            "{id}"
        );
        assert_eq!(
            ref_of(&p["SSESpecification"]["KMSMasterKeyId"]),
            Some("DataKey"),
            "{id}"
        );
        // Every table's throttles page someone: the store retries, persisting throttles are U
        // answers (the OTP and bindings tables once had none).
        for kind in ["Read", "Write"] {
            let alarm = resource(&t, &format!("{id}{kind}ThrottlesAlarm"))
                .unwrap_or_else(|| panic!("{id}: no {kind} throttles alarm"));
            let a = props(alarm);
            assert_eq!(
                a["MetricName"].as_str(),
                Some(format!("{kind}ThrottleEvents").as_str()),
                "{id}"
            );
            assert_eq!(
                ref_of(&a["Dimensions"][0]["Value"]),
                Some(id.as_str()),
                "{id}"
            );
        }
        let stream = p["StreamSpecification"]["StreamViewType"].as_str();
        assert_eq!(
            stream.is_some(),
            name == names.payments || name == names.bindings,
            "{id}: only payments and bindings (authNotify's outbox) have a stream"
        );
        found.insert(name);
    }
    assert_eq!(found, wanted, "the tables of TableNames::with_prefix");
}

fn is_variable_name(s: &str) -> bool {
    s.len() > 2
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Every upper-case `"NAME"` literal in `files`: what the code may read.
fn literals(files: &[PathBuf]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        out.extend(
            text.split('"')
                .skip(1)
                .step_by(2)
                .filter(|p| is_variable_name(p))
                .map(str::to_string),
        );
    }
    out
}

/// The names `files` certainly read: the literal argument of `get("..`, `var("..` and
/// `number("..` (config.rs, policy.rs and the mains read the environment through these).
fn reads(files: &[PathBuf]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for call in ["get(\"", "var(\"", "number(\""] {
            for rest in text.split(call).skip(1) {
                let name = rest.split('"').next().unwrap_or_default();
                if is_variable_name(name) {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

fn env_of(t: &Value, function: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for vars in [
        &t["Globals"]["Function"]["Environment"]["Variables"],
        &props(function)["Environment"]["Variables"],
    ] {
        if let Some(m) = vars.as_mapping() {
            out.extend(m.keys().filter_map(Value::as_str).map(str::to_string));
        }
    }
    out
}

#[test]
fn every_variable_set_is_read_and_every_variable_read_is_set() {
    let t = template();
    let shared = [
        root().join("shared/aws/src/config.rs"),
        root().join("shared/core/src/payments/pay/policy.rs"),
    ];
    // A variable of Globals reaches every function: it must be read by at least one (account
    // binding's settings are read by three); a function's own variables by that function.
    let global: BTreeSet<String> = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut globals_read = BTreeSet::new();
    for c in function_crates() {
        let f = resource(&t, &c.resource()).unwrap();
        let set = env_of(&t, f);
        let mut files = shared.to_vec();
        files.push(root().join("functions").join(&c.dir).join("src/main.rs"));
        if c.dir == "notify-payment" || c.dir == "auth-notify" {
            files.push(root().join("shared/aws/src/notify_settings.rs"));
        }
        // The signed client towards Alipay+: the functions that ask it and wait.
        if ["get-payment-code", "consult-unbinding"].contains(&c.dir.as_str()) {
            files.push(root().join("shared/aws/src/alipay_client.rs"));
        }
        // Account binding's settings: the functions that build an authUrl or apply the cap.
        if ["prepare", "apply-token", "authorization-page"].contains(&c.dir.as_str()) {
            files.push(root().join("shared/aws/src/binding_settings.rs"));
        }
        let known = literals(&files);
        for name in &set {
            let by_library = READ_BY_LIBRARIES.iter().any(|(n, _)| n == name);
            if known.contains(name) || by_library {
                globals_read.insert(name.clone());
                continue;
            }
            assert!(
                global.contains(name),
                "{}: {name} is set but nothing reads it",
                c.dir
            );
        }
        for name in reads(&files) {
            let skipped = NOT_DEPLOYED.iter().any(|(n, _)| *n == name);
            assert!(
                skipped || set.contains(&name),
                "{}: reads {name} but the template does not set it",
                c.dir
            );
        }
    }
    for name in &global {
        assert!(
            globals_read.contains(name),
            "Globals sets {name} but no function reads it"
        );
    }
    // lambda_http drops the stage when the variable exists, whatever its value: never "false".
    let ignore = &t["Globals"]["Function"]["Environment"]["Variables"]
        ["AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH"];
    let values: Vec<&Value> = branches(ignore);
    assert!(
        values.iter().all(|v| v.as_str() == Some("true")),
        "{values:?}"
    );
}

/// A metric an alarm reads: namespace, name, dimensions (`(name, value)`).
type AlarmMetric = (Value, String, Vec<(String, String)>);

/// Every metric an alarm reads, from both alarm forms (a single metric, or `Metrics` with
/// `MetricStat`s and expressions).
fn alarm_metrics(alarm: &Value) -> Vec<AlarmMetric> {
    let p = props(alarm);
    let dims = |m: &Value| {
        items(&m["Dimensions"])
            .into_iter()
            .map(|d| {
                (
                    d["Name"].as_str().unwrap_or_default().to_string(),
                    dimension_value(&d["Value"]),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    if let Some(name) = p["MetricName"].as_str() {
        out.push((p["Namespace"].clone(), name.to_string(), dims(p)));
    }
    for m in items(&p["Metrics"]) {
        let metric = &m["MetricStat"]["Metric"];
        if let Some(name) = metric["MetricName"].as_str() {
            out.push((metric["Namespace"].clone(), name.to_string(), dims(metric)));
        }
    }
    out
}

#[test]
fn every_alarm_reads_a_metric_the_code_emits() {
    let t = template();
    // One pipeline: the EMF lines. No metric filter re-derives metrics from the logs.
    assert!(
        of_type(&t, "AWS::Logs::MetricFilter").is_empty(),
        "metric filters are a second pipeline; emit EMF (shared/aws/src/metrics.rs) instead"
    );
    let namespace = &t["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"];
    assert_eq!(
        intrinsic(namespace).map(|(f, arg)| (f, arg.as_str().map(str::to_string))),
        Some(("Sub".to_string(), Some("MPP/${AWS::StackName}".to_string()))),
        "the EMF namespace is per stack"
    );
    let operations: BTreeSet<String> = function_crates().into_iter().map(|c| c.operation).collect();
    let mut ours = 0;
    for (id, alarm) in of_type(&t, "AWS::CloudWatch::Alarm") {
        let metrics = alarm_metrics(alarm);
        assert!(!metrics.is_empty(), "{id}: reads no metric");
        for (ns, name, dims) in metrics {
            if ns.as_str().is_some_and(|n| n.starts_with("AWS/")) {
                continue;
            }
            ours += 1;
            assert_eq!(
                &ns, namespace,
                "{id}: {name} is not in the functions' namespace"
            );
            let emitted = mpp_aws::metrics::EMITTED
                .iter()
                .find(|m| m.name == name)
                .unwrap_or_else(|| panic!("{id}: the code emits no metric {name}"));
            let mut names: Vec<&str> = dims.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            let published = emitted.dimension_sets.iter().any(|set| {
                let mut set = set.to_vec();
                set.sort_unstable();
                set == names
            });
            assert!(
                published,
                "{id}: {name} is not published with dimensions {names:?} ({:?})",
                emitted.dimension_sets
            );
            for (dim, value) in &dims {
                match dim.as_str() {
                    "flow" => assert!(operations.contains(value), "{id}: no flow {value}"),
                    "result_status" => assert!(
                        ["S", "F", "U"].contains(&value.as_str()),
                        "{id}: status {value}"
                    ),
                    "result_code" => assert!(
                        mpp_core::result_code::ResultCode::from_code(value).is_some(),
                        "{id}: code {value}"
                    ),
                    other => panic!("{id}: the code writes no dimension {other}"),
                }
            }
        }
    }
    assert!(ours > 0, "no alarm reads the functions' metrics");
}
