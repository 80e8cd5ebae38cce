//! Rego (regorus): policies/cansend.rego, `data` = the effective tenant
//! settings, `input` = the request body. Two ways to run it: regorus's
//! tree-walking interpreter (`Engine::eval_rule`) and its compiled
//! bytecode, the RVM (`Compiler::compile_from_policy` → `RegoVM::execute`).
//! The policy does all of the rule logic itself, per attachment and per
//! string included; only the request is converted to a regorus `Value`.

use std::collections::BTreeMap;
use std::sync::Arc;

use cansend::request::CanSendRequest;
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::vm::RegoVM;
use regorus::{Engine, Value};

pub const POLICY: &str = include_str!("../policies/cansend.rego");
pub const RULE: &str = "data.cansend.deny";

pub struct Rego {
    /// The interpreter, policy and data loaded; input set per request.
    pub engine: Engine,
    /// The RVM, program and data loaded; input set per request.
    pub vm: RegoVM,
}

impl Rego {
    pub fn new(settings: &serde_json::Value) -> Result<Self, String> {
        let data = Value::from(settings.clone());
        let mut engine = Engine::new();
        engine.add_policy("cansend.rego".into(), POLICY.into()).map_err(|e| e.to_string())?;
        engine.add_data(data.clone()).map_err(|e| e.to_string())?;

        let mut compiling = engine.clone();
        let compiled = compiling.compile_with_entrypoint(&RULE.into()).map_err(|e| format!("compile: {e}"))?;
        let program: Arc<Program> = Compiler::compile_from_policy(&compiled, &[RULE]).map_err(|e| format!("RVM compile: {e}"))?;
        let mut vm = RegoVM::new();
        vm.load_program(program);
        vm.set_data(data).map_err(|e| format!("RVM data: {e}"))?;
        Ok(Rego { engine, vm })
    }

    pub fn interpret(&mut self, input: Value) -> Value {
        self.engine.set_input(input);
        self.engine.eval_rule(RULE.to_owned()).expect("interpreter evaluates")
    }

    pub fn execute(&mut self, input: Value) -> Value {
        self.vm.set_input(input);
        self.vm.execute().expect("RVM executes")
    }
}

/// The codes of a `deny` result; `Err` for a result that is not a set.
pub fn codes(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Set(s) => s.iter().map(|c| c.as_string().map(|s| s.to_string()).map_err(|e| e.to_string())).collect(),
        Value::Undefined => Ok(Vec::new()),
        other => Err(format!("deny is not a set: {other}")),
    }
}

/// The number of codes, for the timing loops.
pub fn count(v: &Value) -> usize {
    match v {
        Value::Set(s) => s.len(),
        _ => 0,
    }
}

fn obj<const N: usize>(fields: [(&str, Option<Value>); N]) -> Value {
    let map: BTreeMap<Value, Value> = fields.into_iter().filter_map(|(k, v)| v.map(|v| (Value::from(k), v))).collect();
    Value::from(map)
}

fn s(v: &Option<String>) -> Option<Value> {
    v.as_deref().map(Value::from)
}

fn strings(v: &Option<Vec<String>>) -> Option<Value> {
    v.as_ref().map(|l| Value::from(l.iter().map(|s| Value::from(s.as_str())).collect::<Vec<_>>()))
}

fn attributes(a: &Option<serde_json::Map<String, serde_json::Value>>) -> Option<Value> {
    a.as_ref().map(|m| Value::from(serde_json::Value::Object(m.clone())))
}

/// The request as the Rego input document, built from the typed request
/// (the same document as the body, optional fields that were absent or
/// null left out).
pub fn input(r: &CanSendRequest) -> Value {
    let c = &r.client;
    let m = &r.message;
    let sender = obj([
        ("role", Some(Value::from(r.sender.role.as_str()))),
        ("id", s(&r.sender.id)),
        ("status", s(&r.sender.status)),
        ("attributes", attributes(&r.sender.attributes)),
    ]);
    let client = obj([
        ("status", Some(Value::from(c.status.as_str()))),
        ("blocked", c.blocked.map(Value::from)),
        ("active_thread", c.active_thread.map(Value::from)),
        ("channels", strings(&c.channels)),
        ("email", s(&c.email)),
        ("phone", s(&c.phone)),
        ("external_id", s(&c.external_id)),
        ("last_inbound_at", s(&c.last_inbound_at)),
        ("attributes", attributes(&c.attributes)),
    ]);
    let thread = r.thread.as_ref().map(|t| obj([("tags", strings(&t.tags))]));
    let template = m
        .template
        .as_ref()
        .map(|t| obj([("name", Some(Value::from(t.name.as_str()))), ("header", s(&t.header)), ("footer", s(&t.footer))]));
    let attachments = m.attachments.as_ref().map(|l| {
        Value::from(
            l.iter().map(|a| obj([("name", Some(Value::from(a.name.as_str()))), ("size", Some(Value::from(a.size)))])).collect::<Vec<_>>(),
        )
    });
    let message = obj([("text", s(&m.text)), ("template", template), ("attachments", attachments)]);
    obj([
        ("tenant", s(&r.tenant)),
        ("sender", Some(sender)),
        ("action", s(&r.action)),
        ("at", s(&r.at)),
        ("client", Some(client)),
        ("channel", Some(Value::from(r.channel.as_str()))),
        ("thread", thread),
        ("message", Some(message)),
    ])
}
