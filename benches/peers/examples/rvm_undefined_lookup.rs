//! regorus 0.14.1: the interpreter and the RVM disagree when a rule binds
//! an undefined object lookup and then negates a function call on it.
//! `cargo run --release -p cansend-peers --example rvm_undefined_lookup`
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::vm::RegoVM;
use regorus::{Engine, Value};

const POLICY: &str = r#"
package t
import rego.v1

ids := {"email": "email"}

present(obj, key) if object.get(obj, key, "") != ""

# binds an undefined lookup, then negates a call on it
deny contains "negated_call" if {
	field := ids[input.channel]
	not present(input.client, field)
}

# the same without the function call
deny contains "negated_lookup" if {
	field := ids[input.channel]
	not input.client[field]
}

# the bound value itself
deny contains "bound" if {
	field := ids[input.channel]
	field == field
}
"#;

fn main() {
    let input = Value::from_json_str(r#"{"channel": "telegram", "client": {}}"#).unwrap();
    let mut engine = Engine::new();
    engine.add_policy("t.rego".into(), POLICY.into()).unwrap();
    engine.set_input(input.clone());
    let interpreted = engine.eval_rule("data.t.deny".into()).unwrap();
    let compiled = engine.clone().compile_with_entrypoint(&"data.t.deny".into()).unwrap();
    let program = Compiler::compile_from_policy(&compiled, &["data.t.deny"]).unwrap();
    let mut vm = RegoVM::new();
    vm.load_program(program);
    vm.set_input(input);
    let executed = vm.execute().unwrap();
    println!("interpreter: {interpreted}\nRVM:         {executed}");
}
