#!/usr/bin/env python3
"""Generates the typed OCPP payload modules from the vendored JSON schemas.

Run from the repository root: `python3 codec/schemas/gen_types.py`. The output is committed source code
(`codec/src/ocpp/v16/*.rs`, `codec/src/ocpp/v201/*.rs`); re-run after changing a schema, then `cargo fmt`.
"""
import json, os, re, sys

ROOT = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(ROOT, "..", "src", "ocpp")

V16_PROFILES = {
    "core": ("Core profile (mandatory).", ["Authorize", "BootNotification", "ChangeAvailability", "ChangeConfiguration",
              "ClearCache", "DataTransfer", "GetConfiguration", "Heartbeat", "MeterValues", "RemoteStartTransaction",
              "RemoteStopTransaction", "Reset", "StartTransaction", "StatusNotification", "StopTransaction",
              "UnlockConnector"]),
    "firmware": ("Firmware Management profile.", ["DiagnosticsStatusNotification", "FirmwareStatusNotification",
                  "GetDiagnostics", "UpdateFirmware"]),
    "local_auth": ("Local Auth List Management profile.", ["GetLocalListVersion", "SendLocalList"]),
    "reservation": ("Reservation profile.", ["CancelReservation", "ReserveNow"]),
    "smart_charging": ("Smart Charging profile.", ["ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile"]),
    "remote_trigger": ("Remote Trigger profile.", ["TriggerMessage"]),
    "security": ("Security whitepaper (edition 2) extension.", ["CertificateSigned", "DeleteCertificate",
                  "ExtendedTriggerMessage", "GetInstalledCertificateIds", "GetLog", "InstallCertificate",
                  "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
                  "SignedFirmwareStatusNotification", "SignedUpdateFirmware"]),
}
V16_CP_INITIATED = {"Authorize", "BootNotification", "Heartbeat", "MeterValues", "StartTransaction",
                    "StatusNotification", "StopTransaction", "DiagnosticsStatusNotification",
                    "FirmwareStatusNotification", "SecurityEventNotification", "SignCertificate",
                    "LogStatusNotification", "SignedFirmwareStatusNotification"}
V16_BOTH = {"DataTransfer"}

V201_PROFILES = {
    "messages": ("The OCPP 2.0.1 messages a charging station sends, and remote start/stop and reset.",
                 ["Authorize", "BootNotification", "Heartbeat", "MeterValues", "RequestStartTransaction",
                  "RequestStopTransaction", "Reset", "StatusNotification", "TransactionEvent"]),
    "control": ("The OCPP 2.0.1 CSMS-initiated messages behind the other normalized commands.",
                ["ChangeAvailability", "ClearChargingProfile", "DataTransfer", "GetVariables", "SetChargingProfile",
                 "SetVariables", "TriggerMessage", "UnlockConnector"]),
}
V201_CP_INITIATED = {"Authorize", "BootNotification", "Heartbeat", "MeterValues", "StatusNotification",
                     "TransactionEvent"}

FIELD_TYPE_NAMES = {
    "idTagInfo": "IdTagInfo", "meterValue": "MeterValue", "transactionData": "MeterValue",
    "sampledValue": "SampledValue", "chargingProfile": "ChargingProfile", "csChargingProfiles": "ChargingProfile",
    "chargingSchedule": "ChargingSchedule", "chargingSchedulePeriod": "ChargingSchedulePeriod",
    "localAuthorizationList": "AuthorizationData", "configurationKey": "KeyValue",
    "measurand": "Measurand", "unit": "UnitOfMeasure", "context": "ReadingContext", "format": "ValueFormat",
    "phase": "Phase", "location": "Location", "errorCode": "ChargePointErrorCode",
    "chargingProfilePurpose": "ChargingProfilePurpose", "chargingProfileKind": "ChargingProfileKind",
    "recurrencyKind": "RecurrencyKind", "chargingRateUnit": "ChargingRateUnit",
}
CONTEXT_TYPE_NAMES = {"IdTagInfo.status": "AuthorizationStatus", "StopTransactionRequest.reason": "Reason",
                      "ResetRequest.type": "ResetType", "ChangeAvailabilityRequest.type": "AvailabilityType",
                      "TriggerMessageRequest.requestedMessage": "MessageTrigger",
                      "StatusNotificationRequest.status": "ChargePointStatus"}


def load(path):
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


def pascal(s):
    parts = re.split(r"[^0-9A-Za-z]+", s)
    out = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if out[:1].isdigit():
        out = "V" + out
    return out


def snake(s):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.lower()
    return "r#" + s if s in ("type", "ref", "match", "mod") else s


def canon(schema):
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("description", "title", "javaType", "comment")}
        if isinstance(x, list):
            return [strip(i) for i in x]
        return x
    return json.dumps(strip(schema), sort_keys=True)


def doc_line(text, fallback):
    if not text:
        return fallback
    text = " ".join(text.replace("\r", " ").split())
    m = re.match(r"(.+?\.)(\s|$)", text)
    text = m.group(1) if m else text
    if len(text) > 110:
        text = text[:107].rsplit(" ", 1)[0] + "…"
    return text


class Gen:
    def __init__(self, version):
        self.version = version
        self.types = {}  # name -> (canon, code)
        self.order = []

    def register(self, name, alt, schema, build):
        c = canon(schema)
        for cand in (name, alt, alt + "2", alt + "3"):
            if cand in self.types:
                if self.types[cand][0] == c:
                    return cand
                continue
            self.types[cand] = (c, None)
            self.order.append(cand)
            self.types[cand] = (c, build(cand))
            return cand
        raise SystemExit("type name clash " + name)

    def rtype(self, schema, parent, field, defs, doc):
        if "$ref" in schema:
            dname = schema["$ref"].split("/")[-1]
            target = defs[dname]
            if dname == "CustomDataType":
                return "serde_json::Value"
            tname = dname[:-4] if dname.endswith("Type") else dname
            return self.named(target, tname, tname, defs, doc)
        t = schema.get("type")
        if t == "string" and "enum" in schema:
            ctx = parent + "." + field
            name = CONTEXT_TYPE_NAMES.get(ctx) or FIELD_TYPE_NAMES.get(field) or (strip_rr(parent) + pascal(field))
            return self.named(schema, name, strip_rr(parent) + pascal(field), defs, doc)
        if t == "string":
            return "String"
        if t == "integer":
            return "i64"
        if t == "number":
            return "f64"
        if t == "boolean":
            return "bool"
        if t == "array":
            inner = self.rtype(schema.get("items", {}), parent, field, defs, doc)
            return "Vec<%s>" % inner
        if t == "object" and "properties" in schema:
            name = CONTEXT_TYPE_NAMES.get(parent + "." + field) or FIELD_TYPE_NAMES.get(field) or pascal(field)
            if schema_is_array_field(field) and name.endswith("s") and field not in FIELD_TYPE_NAMES:
                name = name[:-1]
            return self.named(schema, name, strip_rr(parent) + name, defs, doc)
        return "serde_json::Value"

    def named(self, schema, name, alt, defs, doc):
        if schema.get("type") == "string" and "enum" in schema:
            return self.register(name, alt, schema, lambda n: self.enum_code(n, schema))
        return self.register(name, alt, schema, lambda n: self.struct_code(n, schema, defs, doc))

    def enum_code(self, name, schema):
        desc = doc_line(schema.get("description"), "Enumeration `%s` of the OCPP %s schemas." % (name, self.version))
        lines = ["wire_enum! {", "    /// %s" % desc, "    %s {" % name]
        values = list(schema["enum"])
        celcius = "Celcius" in values and "Celsius" in values
        seen = set()
        for v in values:
            if celcius and v == "Celcius":
                continue
            vn = pascal(v)
            if vn in seen:
                raise SystemExit("variant clash %s %s" % (name, v))
            seen.add(vn)
            if celcius and v == "Celsius":
                lines.append("        /// The schema also lists the typo `Celcius` (errata); it is accepted as `Celsius`.")
                lines.append('        #[serde(alias = "Celcius")]')
            lines.append('        %s = "%s",' % (vn, v))
        lines.append("    }")
        lines.append("}")
        return "\n".join(lines)

    def struct_code(self, name, schema, defs, doc):
        desc = doc_line(schema.get("description"), doc or "Object `%s` of the OCPP %s schemas." % (name, self.version))
        req = set(schema.get("required", []))
        fields = []
        for fname, fs in schema.get("properties", {}).items():
            ty = self.rtype(fs, name, fname, defs, None)
            fdesc = doc_line(fs.get("description"), "`%s` (%s)." % (fname, "required" if fname in req else "optional"))
            attrs = ['#[serde(rename = "%s"' % fname]
            if fname not in req:
                ty = "Option<%s>" % ty
                attrs[0] += ', default, skip_serializing_if = "Option::is_none"'
            attrs[0] += ")]"
            fields.append((snake(fname), ty, fdesc, attrs))
        lines = ["/// %s" % desc,
                 "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]",
                 "pub struct %s {" % name]
        for fn, ty, fd, attrs in fields:
            lines.append("    /// %s" % fd)
            lines.extend("    " + a for a in attrs)
            lines.append("    pub %s: %s," % (fn, ty))
        lines.append("}")
        return "\n".join(lines)


def schema_is_array_field(field):
    return field.endswith("s")


def strip_rr(n):
    for suf in ("Request", "Response"):
        if n.endswith(suf):
            return n[: -len(suf)]
    return n


def header(doc):
    return "//! %s\n//!\n//! Generated by `codec/schemas/gen_types.py` from the vendored schemas; do not edit by hand.\n\n" % doc


def generate(version, schema_dir, profiles, cp_initiated, both, out_dir, req_suffix):
    gen = Gen(version)
    root_types = {}
    file_of = {}
    for prof, (pdoc, actions) in profiles.items():
        for a in actions:
            for kind, fname in (("Request", a + req_suffix + ".json"), ("Response", a + "Response.json")):
                s = load(os.path.join(schema_dir, fname))
                defs = s.get("definitions", {})
                rname = a + kind
                before = set(gen.order)
                who = "Charge Point" if a in cp_initiated else "Central System"
                if a in both:
                    who = "either side"
                if kind == "Request":
                    docline = "%s.req: the CALL payload, sent by %s." % (a, who)
                else:
                    docline = "%s.conf: the CALLRESULT payload answering it." % a
                got = gen.struct_code(rname, s, defs, docline)
                root_types[rname] = got
                file_of[rname] = prof
    os.makedirs(out_dir, exist_ok=True)
    use = "use serde::{Deserialize, Serialize};\n"
    for prof, (pdoc, actions) in profiles.items():
        body = [header("OCPP %s payloads: %s" % (version, pdoc)), "#[allow(unused_imports)]\nuse super::enums::*;\n#[allow(unused_imports)]\nuse super::types::*;\n", use]
        for a in actions:
            body.append(root_types[a + "Request"])
            body.append(root_types[a + "Response"])
        open(os.path.join(out_dir, prof + ".rs"), "w").write("\n\n".join(body) + "\n")
    types = [header("Shared OCPP %s data structures used by several payloads." % version),
             "#[allow(unused_imports)]\nuse super::enums::*;\n", use]
    enums = [header("OCPP %s enumerations, each with its wire spelling." % version), use, "use crate::ocpp::wire_enum::wire_enum;\n"]
    for n in gen.order:
        code = gen.types[n][1]
        (enums if code.startswith("wire_enum!") else types).append(code)
    open(os.path.join(out_dir, "types.rs"), "w").write("\n\n".join(types) + "\n")
    open(os.path.join(out_dir, "enums.rs"), "w").write("\n\n".join(enums) + "\n")
    # action table
    all_actions = [(a, prof) for prof, (_, acts) in profiles.items() for a in acts]
    all_actions.sort()
    L = [header("The OCPP %s action table: names, profiles, directions, typed payload enums and schema texts." % version)]
    L.append("/// Every OCPP %s action Chargegate knows, named as on the wire.\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum Action {" % version)
    for a, p in all_actions:
        L.append("    /// `%s` (%s)." % (a, profiles[p][0].rstrip(".")))
        L.append("    %s," % a)
    L.append("}\n")
    L.append("/// Which side starts an action.\n#[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub enum Initiator {\n    /// The charger sends the CALL.\n    ChargePoint,\n    /// The central system sends the CALL.\n    CentralSystem,\n    /// Either side may.\n    Both,\n}\n")
    L.append("impl Action {\n    /// All actions, sorted by name.\n    pub const ALL: [Action; %d] = [%s];\n" % (len(all_actions), ", ".join("Action::" + a for a, _ in all_actions)))
    L.append("    /// The wire name.\n    pub fn as_str(self) -> &'static str {\n        match self {")
    for a, _ in all_actions:
        L.append('            Action::%s => "%s",' % (a, a))
    L.append("        }\n    }\n")
    L.append("    /// Looks an action up by its case-sensitive wire name.\n    pub fn from_name(name: &str) -> Option<Action> {\n        match name {")
    for a, _ in all_actions:
        L.append('            "%s" => Some(Action::%s),' % (a, a))
    L.append("            _ => None,\n        }\n    }\n")
    L.append("    /// The feature profile (module) the action belongs to.\n    pub fn profile(self) -> &'static str {\n        match self {")
    for a, p in all_actions:
        L.append('            Action::%s => "%s",' % (a, p))
    L.append("        }\n    }\n")
    L.append("    /// Which side sends the CALL.\n    pub fn initiator(self) -> Initiator {\n        match self {")
    for a, p in all_actions:
        ini = "Both" if a in both else ("ChargePoint" if a in cp_initiated else "CentralSystem")
        L.append("            Action::%s => Initiator::%s," % (a, ini))
    L.append("        }\n    }\n")
    L.append("    /// Index of the action in [`Action::ALL`].\n    pub fn index(self) -> usize {\n        self as usize\n    }\n")
    L.append("}\n")
    open(os.path.join(out_dir, "action.rs"), "w").write("\n".join(L) + "\n")
    L = [header("Where each OCPP %s action's vendored schema files are, compiled into the binary." % version)]
    L.append("use super::Action;\nuse crate::ocpp::schema::PayloadKind;\n")
    L.append("impl Action {")
    L.append("    /// The vendored JSON schema text for the request or the response payload.\n    pub fn schema_text(self, kind: PayloadKind) -> &'static str {\n        match (self, kind) {")
    rel = "../../../schemas/" + os.path.basename(schema_dir) + "/"
    for a, _ in all_actions:
        L.append('            (Action::%s, PayloadKind::Request) => include_str!("%s%s%s.json"),' % (a, rel, a, req_suffix))
        L.append('            (Action::%s, PayloadKind::Response) => include_str!("%s%sResponse.json"),' % (a, rel, a))
    L.append("        }\n    }\n")
    L.append("    /// The schema file name (for reports and tests).\n    pub fn schema_file(self, kind: PayloadKind) -> &'static str {\n        match (self, kind) {")
    for a, _ in all_actions:
        L.append('            (Action::%s, PayloadKind::Request) => "%s%s.json",' % (a, a, req_suffix))
        L.append('            (Action::%s, PayloadKind::Response) => "%sResponse.json",' % (a, a))
    L.append("        }\n    }\n}\n")
    open(os.path.join(out_dir, "schema_table.rs"), "w").write("\n".join(L) + "\n")
    L = [header("Typed OCPP %s CALL and CALLRESULT payloads of any action, dispatched by action name." % version)]
    L.append("use serde::Serialize;\nuse serde_json::value::RawValue;\n")
    L.append("use super::*;\n")
    for kind, what in (("Request", "A typed CALL payload of any action."), ("Response", "A typed CALLRESULT payload of any action.")):
        L.append("/// %s\n#[derive(Debug, Clone, PartialEq, Serialize)]\n#[serde(untagged)]\npub enum %s {" % (what, kind))
        for a, _ in all_actions:
            L.append("    /// `%s`." % a)
            L.append("    %s(%s%s)," % (a, a, kind))
        L.append("}\n")
        L.append("impl %s {" % kind)
        L.append("    /// Deserializes the payload of `action`.\n    pub fn parse(action: Action, payload: &RawValue) -> serde_json::Result<%s> {\n        let text = payload.get();\n        Ok(match action {" % kind)
        for a, _ in all_actions:
            L.append("            Action::%s => %s::%s(serde_json::from_str(text)?)," % (a, kind, a))
        L.append("        })\n    }\n")
        L.append("    /// Deserializes an already parsed (and usually validated) payload of `action`.\n    pub fn from_value(action: Action, value: &serde_json::Value) -> serde_json::Result<%s> {\n        use serde::Deserialize;\n        Ok(match action {" % kind)
        for a, _ in all_actions:
            L.append("            Action::%s => %s::%s(%s%s::deserialize(value)?)," % (a, kind, a, a, kind))
        L.append("        })\n    }\n")
        L.append("    /// The action this payload belongs to.\n    pub fn action(&self) -> Action {\n        match self {")
        for a, _ in all_actions:
            L.append("            %s::%s(_) => Action::%s," % (kind, a, a))
        L.append("        }\n    }\n}\n")
    open(os.path.join(out_dir, "payload.rs"), "w").write("\n".join(L) + "\n")


generate("1.6", os.path.join(ROOT, "ocpp16"), V16_PROFILES, V16_CP_INITIATED, V16_BOTH, os.path.join(SRC, "v16"), "")
generate("2.0.1", os.path.join(ROOT, "ocpp201"), V201_PROFILES, V201_CP_INITIATED, {"DataTransfer"}, os.path.join(SRC, "v201"), "Request")
