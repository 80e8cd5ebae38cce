#!/usr/bin/env python3
"""Writes schemas/*.schema.json. The schemas are committed; edit this script
and re-run it (python3 scripts/gen_schemas.py) to change them, so the five
schemas share one definition of conditions, sizes and overrides."""
import json, pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "schemas"
BASE = "https://cansend.example/schemas/"
NAME = "^[a-z][a-z0-9_]*$"
ID = "^[a-z0-9][a-z0-9_.-]*$"

def allow(*kinds):
    """`allow_findings`: findings of `cansend check` accepted on this entry."""
    return {"allow_findings": {"type": "array", "uniqueItems": True, "items": {"enum": list(kinds)},
                               "description": "Findings of `cansend check` accepted here (say why in a comment): "
                                              + ", ".join(kinds) + "."}}

entry = {"type": "object", "additionalProperties": False,
         "properties": {"title": {"type": "string"}, "description": {"type": "string"}}}

def doc(kind, title, props, required=(), defs=None):
    s = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + kind + ".schema.json",
        "title": title,
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", *required],
        "properties": {"kind": {"const": kind, "description": "The kind of rule file."},
                       "description": {"type": "string"}, **props},
    }
    if defs:
        s["$defs"] = defs
    return s

TYPES = ["bool", "int", "size", "duration", "string", "extension", "timestamp", "timezone", "channel", "role",
         "action", "capability", "client_status", "tenant", "set<string>", "set<extension>", "set<channel>",
         "set<role>", "set<action>", "set<capability>", "set<client_status>"]

catalog = doc("catalog", "cansend catalog: the vocabulary of the rules", {
    "request_defaults": {"type": "object", "additionalProperties": False, "required": ["tenant", "action"],
                         "description": "Tenant and action of a request that names none.",
                         "properties": {"tenant": {"type": "string"}, "action": {"type": "string"}}},
    **{k: {"type": "object", "description": d, "propertyNames": {"pattern": NAME}, "additionalProperties": entry}
       for k, d in [("channels", "Channels messages can go over."), ("roles", "Roles of senders."),
                    ("actions", "What a sender does on the last step of the send dialog."),
                    ("capabilities", "UI capabilities a role may have."),
                    ("client_statuses", "Kinds of client (existing, new).")]},
    "codes": {"type": "object", "description": "Violation codes rules emit, with their default message.",
              "propertyNames": {"pattern": NAME},
              "additionalProperties": {"type": "object", "additionalProperties": False, "required": ["message"],
                                       "properties": {"message": {"type": "string", "minLength": 1},
                                                      "description": {"type": "string"}, **allow("unused")}}},
    "attributes": {"type": "object", "additionalProperties": False,
                   "description": "Typed custom attributes requests carry in client.attributes / sender.attributes.",
                   "properties": {w: {"type": "object", "propertyNames": {"pattern": NAME},
                                      "additionalProperties": {"type": "object", "additionalProperties": False,
                                                               "required": ["type"],
                                                               "properties": {"type": {"enum": ["bool", "int", "size", "duration", "string", "timestamp", "set<string>"]},
                                                                              "description": {"type": "string"}, **allow("unused")}}}
                                  for w in ("client", "sender")}},
})

scalar = {"type": ["string", "number", "integer", "boolean", "array"]}
setting_decl = {"type": "object", "additionalProperties": False, "required": ["type", "default"],
                "properties": {"type": {"enum": TYPES}, "default": {"description": "The value every tenant gets unless it overrides it."},
                               "description": {"type": "string"},
                               "min": {"type": ["integer", "string"], "description": "Lowest value a tenant may set (numbers, sizes)."},
                               "max": {"type": ["integer", "string"], "description": "Highest value a tenant may set (numbers, sizes)."},
                               "tighten_only": {"type": "boolean", "description": "Tenants may only lower it (numbers) or shrink it (sets)."},
                               "locked": {"type": "boolean", "description": "Tenants may not override it."},
                               "at_most": {"type": "string", "pattern": NAME,
                                           "description": "Another setting of the same level (numbers, sizes) this one may never exceed: checked at load for every tenant and channel or role, before and after each override expires."},
                               **allow("unused")}}
decls = {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": setting_decl}
entity_values = {"type": "object", "propertyNames": {"pattern": NAME},
                 "additionalProperties": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": scalar}}
settings = doc("settings", "cansend settings: typed, bounded values per tenant, channel and role", {
    "tenant": {**decls, "description": "Settings a tenant has once (read as tenant.<name>)."},
    "channel": {**decls, "description": "Settings a tenant has for each channel (read as channel.<name>: the target channel's)."},
    "role": {**decls, "description": "Settings a tenant has for each role (read as role.<name>: the sender's role's)."},
    "channels": {**entity_values, "description": "Channel-specific defaults: channel → setting → value."},
    "roles": {**entity_values, "description": "Role-specific defaults: role → setting → value."},
    "send_options": {"type": "object", "additionalProperties": False,
                     "description": "Which settings feed POST /v1/send-options.",
                     "required": ["attachment_formats", "max_file_size", "max_total_size", "max_count", "actions",
                                  "capabilities", "tags_required", "available_tags"],
                     "properties": {k: {"type": "string", "pattern": "^(tenant|channel|role)\\.[a-z][a-z0-9_]*$"}
                                    for k in ["attachment_formats", "max_file_size", "max_total_size", "max_count",
                                              "actions", "capabilities", "tags_required", "available_tags"]}},
})

OPS = {
    "eq": "equals (a literal, or $field)", "ne": "differs from", "lt": "less than", "le": "at most",
    "gt": "greater than", "ge": "at least", "in": "is a member of (a list, or $set-field)",
    "not_in": "is not a member of", "contains": "the set contains", "not_contains": "the set lacks",
    "any_in": "the sets share a member", "none_in": "the sets share no member", "all_in": "every member is in",
    "within": "instant within a duration before `at` (e.g. 24h)", "not_within": "instant not within a duration before `at`",
}
opmap = {"type": "object", "additionalProperties": False, "minProperties": 1,
         "properties": {**{k: {"description": v} for k, v in OPS.items()},
                        "present": {"type": "boolean", "description": "the field was given (text: and is not blank)"},
                        "blank": {"type": "boolean", "description": "text absent, empty or only white space"},
                        "empty": {"type": "boolean", "description": "a set with no members"},
                        "local_time": {"type": "object", "additionalProperties": False, "required": ["from", "to"],
                                       "description": "local time of day of an instant within [from, to); wraps midnight",
                                       "properties": {"from": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                                                      "to": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                                                      "timezone": {"type": "string"}}}}}
FIELDS = ["tenant", "action", "channel", "at", "sender.role", "sender.id", "sender.status", "client.status",
          "client.blocked", "client.active_thread", "client.channels", "client.email", "client.phone",
          "client.external_id", "client.last_inbound_at", "thread.tags", "message.text", "message.text.length",
          "message.template", "message.template.name", "message.template.header", "message.template.footer",
          "message.attachments.count", "message.attachments.total_size", "attachment.name",
          "attachment.extension", "attachment.size"]
comparison = {"if": {"type": "object"}, "then": {"$ref": "#/$defs/ops"},
              "else": {"type": ["string", "number", "integer", "boolean", "array"]}}
condition = {
    "description": "A condition: `all`/`any` (lists), `not`, or `field: value` / `field: {op: operand}`; a bare string is a bool field that must be true.",
    "type": ["object", "string"],
    "properties": {"all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
                   "any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}},
                   "not": {"$ref": "#/$defs/condition"},
                   **{f: comparison for f in FIELDS}},
    "propertyNames": {"pattern": "^(all|any|not|[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)*)$"},
    "additionalProperties": comparison,
    "minProperties": 1,
}
rules = doc("rules", "cansend rules: deny rules and their exceptions", {
    "rules": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["id", "deny", "code"],
        "properties": {"id": {"type": "string", "pattern": ID, "description": "Unique across the rule set."},
                       "description": {"type": "string"},
                       "each": {"enum": ["attachment"], "description": "Evaluate once per attachment; violations point at it."},
                       "deny": {"$ref": "#/$defs/condition", "description": "When this holds, the request is refused with `code`."},
                       "code": {"type": "string", "pattern": NAME},
                       "message": {"type": "string", "description": "Overrides the code's message for this rule."},
                       **allow("never_fires", "redundant")}}},
    "exceptions": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["id", "when", "overrides"],
        "properties": {"id": {"type": "string", "pattern": ID}, "description": {"type": "string"},
                       "when": {"$ref": "#/$defs/condition"},
                       "overrides": {"type": "array", "minItems": 1, "items": {"type": "string"},
                                     "description": "Rule ids this exception carves out when `when` holds."},
                       **allow("never_applies")}}},
}, defs={"condition": condition, "ops": opmap})

override = {"description": "A value, or { value, ticket, expires, note, allow_findings }.",
            "if": {"type": "object"},
            "then": {"type": "object", "additionalProperties": False, "required": ["value"],
                     "properties": {"value": {}, "ticket": {"type": "string"},
                                    "expires": {"type": "string", "description": "Date (through that day, UTC) or RFC 3339 instant after which the default applies again."},
                                    "note": {"type": "string"}, **allow("same_as_default")}}}
per_entity = {"type": "object", "propertyNames": {"pattern": NAME},
              "additionalProperties": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": override}}
tenant = doc("tenant", "cansend tenant: what differs from the defaults for one tenant", {
    "tenant": {"type": "string", "pattern": ID, "description": "The tenant's name, as requests give it."},
    "settings": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": override},
    "channels": per_entity, "roles": per_entity,
    "messages": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": {"type": "string"},
                 "description": "Per-code message text for this tenant."},
}, required=["tenant"])

tests = doc("tests", "cansend rule tests: requests and the decisions they must get", {
    "base": {"type": "object", "description": "Merged under every test's request."},
    "tests": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["name", "request", "expect"],
        "properties": {"name": {"type": "string", "minLength": 1},
                       "request": {"type": "object", "description": "A POST /v1/can-send body (merged onto base)."},
                       "expect": {"type": "object", "additionalProperties": False, "required": ["allowed"],
                                  "properties": {"allowed": {"type": "boolean"},
                                                 "codes": {"type": "array", "items": {"type": "string"}},
                                                 "rules": {"type": "array", "items": {"type": "string"}}}}}}},
}, required=["tests"])

for name, s in [("catalog", catalog), ("settings", settings), ("rules", rules), ("tenant", tenant), ("tests", tests)]:
    (ROOT / f"{name}.schema.json").write_text(json.dumps(s, indent=2, ensure_ascii=False) + "\n")
print("wrote", ROOT)
