//! cansend side by side with its peers on the shipped rules (docs/domain.md §1, §2):
//! Cedar (cedar-policy), Rego (regorus: interpreter and RVM), and the
//! hand-written floor of benches/common.
//!
//! 1. A deterministic corpus of requests on all shipped tenants.
//! 2. Agreement: on every request, cansend, the floor, Cedar and regorus
//!    (both modes) give the same set of deny codes (and Cedar the same
//!    violated rule ids); any difference is reported and the run exits 1
//!    before anything is timed.
//! 3. Timing: single thread, whole passes over the corpus, the engines
//!    alternated pass by pass; median, min and max ns/decision per engine,
//!    from wall time, and the median from the thread's CPU time.
//!
//! `cargo run --release -p cansend-peers -- [--passes N] [--requests N] [--seed N] [--check-only]`

mod cedar;
mod corpus;
mod rego;
mod settings;

#[path = "../../common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use cansend::internals::evaluate;
use cansend::request::CanSendRequest;

struct Args {
    passes: usize,
    requests: usize,
    seed: u64,
    check_only: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args { passes: 15, requests: 10_000, seed: 0x5EED_CA45_E4D0_0001, check_only: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--passes" => a.passes = value("--passes")?.parse().map_err(|e| format!("--passes: {e}"))?,
            "--requests" => a.requests = value("--requests")?.parse().map_err(|e| format!("--requests: {e}"))?,
            "--seed" => a.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--check-only" => a.check_only = true,
            "-h" | "--help" => {
                return Err("usage: cansend-peers [--passes N (15)] [--requests N (10000)] [--seed N] [--check-only]".into());
            }
            other => return Err(format!("unknown argument `{other}` (see --help)")),
        }
    }
    if a.passes == 0 || a.requests == 0 {
        return Err("--passes and --requests must be at least 1".into());
    }
    Ok(a)
}

fn sorted(v: impl IntoIterator<Item = String>) -> Vec<String> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

/// One engine's answer on one request: the set of deny codes, or an error.
type Answer = Result<Vec<String>, String>;

fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let now = common::NOW;

    // ---- the corpus, decoded and bound by cansend --------------------------
    let bodies = corpus::generate(a.requests, a.seed);
    let engine = cansend::Engine::builtin().expect("the built-in rules load");
    let rs = engine.rule_set();
    let reqs: Vec<CanSendRequest> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| cansend::internals::decode(b).unwrap_or_else(|e| panic!("corpus[{i}] does not decode: {e:?}\n{b}")))
        .collect();
    let inputs: Vec<_> = reqs
        .iter()
        .enumerate()
        .map(|(i, r)| cansend::internals::bind(rs, r, now).unwrap_or_else(|e| panic!("corpus[{i}] does not bind: {e:?}")))
        .collect();

    // ---- the peers ------------------------------------------------------------
    let floor_data = common::floor_data();
    let settings = settings::effective();
    let cedar = cedar::Cedar::new(&settings).unwrap_or_else(|e| panic!("Cedar: {e}"));
    let mut rego = rego::Rego::new(&settings).unwrap_or_else(|e| panic!("regorus: {e}"));
    let cedar_reqs: Vec<_> = reqs.iter().map(|r| cedar.request(r)).collect();
    let rego_inputs: Vec<_> = reqs.iter().map(rego::input).collect();

    // Every cansend rule has a Cedar policy and every policy is a cansend rule.
    let ours: BTreeSet<&str> = engine.catalog().rules().map(|r| r.id).collect();
    let theirs: BTreeSet<&str> = cedar.rule_ids().collect();
    if ours != theirs {
        eprintln!("Cedar policies and cansend rules differ: only in cansend {:?}, only in Cedar {:?}", &ours - &theirs, &theirs - &ours);
        return ExitCode::FAILURE;
    }
    let code_of: BTreeMap<&str, &str> = engine.catalog().rules().map(|r| (r.id, r.code.unwrap_or_default())).collect();

    // ---- agreement --------------------------------------------------------------
    let mut disagreements = Vec::new();
    let mut denied_by: BTreeMap<String, usize> = BTreeMap::new();
    let mut allowed = 0usize;
    let mut by_tenant: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, req) in reqs.iter().enumerate() {
        let answer = engine.decide(req, now).unwrap_or_else(|e| panic!("corpus[{i}] is decided: {e}"));
        let want = sorted(answer.violations.iter().map(|v| v.code.to_owned()));
        let want_rules = sorted(answer.violations.iter().map(|v| v.rule.to_owned()));
        let mut floor = Vec::new();
        common::floor_any(&floor_data, req, &mut floor);
        let cedar_rules = cedar.violated(&cedar.decide(&cedar_reqs[i]));
        let got: [(&str, Answer); 6] = [
            ("floor", Ok(sorted(floor.into_iter().map(str::to_owned)))),
            ("cedar", cedar_rules.clone().map(|rules| sorted(rules.iter().map(|r| code_of[r.as_str()].to_owned())))),
            ("cedar rule ids", cedar_rules.map(sorted)),
            ("regorus interpreter", rego::codes(&rego.interpret(rego_inputs[i].clone())).map(sorted)),
            ("regorus interpreter, input = body JSON", rego::codes(&rego.interpret(regorus::Value::from(bodies[i].clone()))).map(sorted)),
            ("regorus RVM", rego::codes(&rego.execute(rego_inputs[i].clone())).map(sorted)),
        ];
        let rvm_json = rego::codes(&rego.execute(regorus::Value::from(bodies[i].clone()))).map(sorted);
        let mut wrong: Vec<(&str, Answer)> = Vec::new();
        for (name, g) in got.into_iter().chain([("regorus RVM, input = body JSON", rvm_json)]) {
            let expected = if name == "cedar rule ids" { &want_rules } else { &want };
            if g.as_ref() != Ok(expected) {
                wrong.push((name, g));
            }
        }
        if !wrong.is_empty() {
            disagreements.push((i, want.clone(), wrong));
        }
        let t = by_tenant.entry(req.tenant.as_deref().unwrap_or("default")).or_default();
        t.0 += 1;
        if want.is_empty() {
            allowed += 1;
            t.1 += 1;
        }
        for c in want {
            *denied_by.entry(c).or_default() += 1;
        }
    }
    // A code no request draws is a rule the agreement did not test.
    let untested: Vec<&str> = engine.catalog().codes().map(|(name, _)| name).filter(|c| !denied_by.contains_key(*c)).collect();

    println!("corpus: {} requests (seed {}), {allowed} allowed, {} denied", reqs.len(), a.seed, reqs.len() - allowed);
    for (t, (n, ok)) in &by_tenant {
        println!("  tenant {t}: {n} requests, {ok} allowed");
    }
    println!("  requests denied with each code: {}", denied_by.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join(", "));
    if !disagreements.is_empty() {
        eprintln!("\nAGREEMENT FAILED on {} of {} requests; the first ones:", disagreements.len(), reqs.len());
        for (i, want, wrong) in disagreements.iter().take(8) {
            eprintln!("\ncorpus[{i}]: {}", bodies[*i]);
            eprintln!("  cansend:  {want:?}");
            for (name, g) in wrong {
                eprintln!("  {name}: {g:?}");
            }
        }
        return ExitCode::FAILURE;
    }
    if !untested.is_empty() {
        eprintln!("the corpus never draws {untested:?}: the agreement would not test those rules");
        return ExitCode::FAILURE;
    }
    println!(
        "agreement: cansend, floor_any, Cedar and regorus (interpreter and RVM, input from the typed request and from the body JSON) \
         give the same deny codes on all {} requests; Cedar's determining policies are cansend's violated rule ids",
        reqs.len()
    );
    if a.check_only {
        return ExitCode::SUCCESS;
    }

    // ---- timing -------------------------------------------------------------------
    // Each engine runs one whole pass over the corpus per call and returns
    // a count derived from its answers, so nothing is optimised away.
    type Pass<'a> = Box<dyn FnMut() -> usize + 'a>;
    let rego_cell = std::cell::RefCell::new(&mut rego);
    // (name, what the timing includes, whether it starts from the typed
    // request (true) or from the engine's own pre-built input, the pass).
    let engines: Vec<(&str, &str, bool, Pass)> = vec![
        (
            "floor (floor_any)",
            "hand-written docs/domain.md §1 on the typed request, settings looked up by tenant, channel and role name, codes pushed to a Vec",
            true,
            Box::new(|| {
                let mut n = 0;
                for r in &reqs {
                    let mut out = Vec::new();
                    common::floor_any(&floor_data, black_box(r), &mut out);
                    n += black_box(out).len();
                }
                n
            }),
        ),
        (
            "cansend evaluate",
            "`engine::evaluate` on pre-bound `Input`s → `Decision` (violated rules, no rendering)",
            false,
            Box::new(|| inputs.iter().map(|i| black_box(evaluate(rs, black_box(i), false)).violations.len()).sum()),
        ),
        (
            "cansend bind + evaluate",
            "`request::bind` (typed request → `Input`: names resolved, strings copied, extensions, total size) + `evaluate`",
            true,
            Box::new(|| {
                reqs.iter()
                    .map(|r| {
                        let input = cansend::internals::bind(rs, black_box(r), now).expect("bind");
                        black_box(evaluate(rs, &input, false)).violations.len()
                    })
                    .sum()
            }),
        ),
        (
            "Cedar is_authorized",
            "`Authorizer::is_authorized` on pre-built `Request`s (static entities) → `Response` with the determining policy ids",
            false,
            Box::new(|| cedar_reqs.iter().map(|q| black_box(cedar.decide(black_box(q))).diagnostics().reason().count()).sum()),
        ),
        (
            "Cedar context + is_authorized",
            "typed request → aggregates outside Cedar (extensions, max/total size, blank checks) + `Context::from_pairs` + `Request::new` (no schema) + `is_authorized`",
            true,
            Box::new(|| reqs.iter().map(|r| black_box(cedar.decide(&cedar.request(black_box(r)))).diagnostics().reason().count()).sum()),
        ),
        (
            "regorus interpreter eval",
            "`Engine::set_input` (pre-converted `Value`) + `eval_rule(\"data.cansend.deny\")` → the set of codes",
            false,
            Box::new(|| {
                let mut g = rego_cell.borrow_mut();
                rego_inputs.iter().map(|v| rego::count(&black_box(g.interpret(v.clone())))).sum()
            }),
        ),
        (
            "regorus interpreter input + eval",
            "typed request → regorus `Value` (the body document) + `set_input` + `eval_rule`",
            true,
            Box::new(|| {
                let mut g = rego_cell.borrow_mut();
                reqs.iter().map(|r| rego::count(&black_box(g.interpret(rego::input(black_box(r)))))).sum()
            }),
        ),
        (
            "regorus RVM execute",
            "`RegoVM::set_input` (pre-converted `Value`) + `execute` of the compiled program → the set of codes",
            false,
            Box::new(|| {
                let mut g = rego_cell.borrow_mut();
                rego_inputs.iter().map(|v| rego::count(&black_box(g.execute(v.clone())))).sum()
            }),
        ),
        (
            "regorus RVM input + execute",
            "typed request → regorus `Value` + `set_input` + `execute`",
            true,
            Box::new(|| {
                let mut g = rego_cell.borrow_mut();
                reqs.iter().map(|r| rego::count(&black_box(g.execute(rego::input(black_box(r)))))).sum()
            }),
        ),
    ];
    let mut engines = engines;
    let n = reqs.len() as f64;
    let k = engines.len();

    // One untimed pass each (after the agreement pass) to warm caches and
    // allocators, and the count each engine must keep returning.
    let expect: Vec<usize> = engines.iter_mut().map(|(_, _, _, run)| run()).collect();
    // Wall time per pass, and the thread's CPU time: on a shared machine the
    // second leaves out the time the pass was not running at all.
    let mut wall: Vec<Vec<f64>> = vec![Vec::with_capacity(a.passes); k];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::with_capacity(a.passes); k];
    let started = Instant::now();
    let cpu_started = thread_cpu_ns();
    for pass in 0..a.passes {
        // Alternate: every pass runs every engine once, starting one later
        // each pass, so drift on a shared machine hits all alike.
        for j in 0..k {
            let e = (pass + j) % k;
            let (t, c) = (Instant::now(), thread_cpu_ns());
            let got = (engines[e].3)();
            wall[e].push(t.elapsed().as_nanos() as f64 / n);
            cpu[e].push((thread_cpu_ns() - c) as f64 / n);
            assert_eq!(got, expect[e], "{}: a pass counted differently", engines[e].0);
        }
        eprint!("\rpass {}/{}", pass + 1, a.passes);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let share = (thread_cpu_ns() - cpu_started) as f64 / 1e9 / elapsed;
    eprintln!("\r{} passes in {elapsed:.1} s", a.passes);

    let wall: Vec<Stats> = wall.into_iter().map(Stats::of).collect();
    let cpu: Vec<Stats> = cpu.into_iter().map(Stats::of).collect();
    let at = |name: &str| engines.iter().position(|(e, _, _, _)| *e == name).expect("engine");
    let (floor, cansend_eval, cansend_full) = (at("floor (floor_any)"), at("cansend evaluate"), at("cansend bind + evaluate"));
    // The cansend row an engine is compared with: the same scope.
    let scope = |e: usize| if engines[e].2 { cansend_full } else { cansend_eval };

    // ---- the report ---------------------------------------------------------------
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_owned()))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let command = std::iter::once("cargo run --release -p cansend-peers".to_owned())
        .chain((std::env::args().len() > 1).then(|| format!("-- {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "))))
        .collect::<Vec<_>>()
        .join(" ");

    println!();
    println!(
        "Machine: {cores} cores (nproc), {cpu_model}; {rustc}; cedar-policy {}, regorus {}.",
        lock_version("cedar-policy"),
        lock_version("regorus")
    );
    println!("Command: `{command}`");
    println!(
        "Corpus: {} requests on the shipped tenants (default, demo-tags, demo-limits), {allowed} allowed; {} passes per engine, \
         alternated pass by pass, single thread; ns per decision = pass time / requests.",
        reqs.len(),
        a.passes
    );
    println!(
        "Timed: {elapsed:.0} s wall, of which the benchmark thread ran {:.0} % (the rest it waited for a core: a shared machine).",
        share * 100.0
    );
    println!();
    println!(
        "| engine | median ns/decision | min | max | thread CPU ns/decision, median | × cansend (same scope) | × cansend, thread CPU |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (e, (name, _, _, _)) in engines.iter().enumerate() {
        let (w, c) = (&wall[e], &cpu[e]);
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
            w.median,
            w.min,
            w.max,
            c.median,
            w.median / wall[scope(e)].median,
            c.median / cpu[scope(e)].median
        );
    }
    println!();
    println!("| engine | the timing includes |");
    println!("| --- | --- |");
    for (name, includes, _, _) in &engines {
        println!("| {name} | {includes} |");
    }
    println!();
    println!(
        "× cansend: the engine's median over cansend's, same run and same scope: an engine call on its own pre-built input against \
         `cansend evaluate`; from the typed request (the floor too) against `cansend bind + evaluate`. Wall time counts the time a \
         pass waited for a core, which grows with the length of the pass; thread CPU time does not."
    );
    println!(
        "cansend / floor: bind + evaluate {:.2}× (thread CPU {:.2}×), evaluate alone {:.2}× (thread CPU {:.2}×) the data-driven \
         hand-written floor.",
        wall[cansend_full].median / wall[floor].median,
        cpu[cansend_full].median / cpu[floor].median,
        wall[cansend_eval].median / wall[floor].median,
        cpu[cansend_eval].median / cpu[floor].median,
    );
    ExitCode::SUCCESS
}

/// Median, min and max of one engine's passes (ns/decision).
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(mut s: Vec<f64>) -> Self {
        s.sort_by(f64::total_cmp);
        let m = s.len();
        let median = if m % 2 == 1 { s[m / 2] } else { (s[m / 2 - 1] + s[m / 2]) / 2.0 };
        Stats { median, min: s[0], max: s[m - 1] }
    }
}

/// CPU time of the calling thread, ns.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The locked version of a dependency, from the workspace's Cargo.lock.
fn lock_version(name: &str) -> String {
    const LOCK: &str = include_str!("../../../Cargo.lock");
    let key = format!("name = \"{name}\"\nversion = \"");
    LOCK.split_once(&key).and_then(|(_, rest)| rest.split_once('"')).map(|(v, _)| v.to_owned()).unwrap_or_else(|| "?".into())
}
