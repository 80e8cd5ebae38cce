//! Reload latency for BENCHMARKS.md: the time from a rule file being
//! written (saved by rename, as editors and deploy tools do) to the new
//! revision serving — through the real watcher — and the cost of one
//! reload itself (read + hash + parse + check + compile + swap), for the
//! shipped rules and for a 10,000-tenant set.
//!
//! ```sh
//! cargo run --release --example reload_latency
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "an example fails loudly")]

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cansend::reload::watch::{self, WatchOptions};
use cansend::reload::{Live, Outcome, RuleSource};

#[path = "../benches/common/mod.rs"]
mod common;

fn write_rules(to: &Path, tenants: usize) {
    for f in cansend::builtin_rules() {
        let p = to.join(&f.path);
        fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        fs::write(p, f.text).expect("write");
    }
    if tenants > 0 {
        fs::create_dir_all(to.join("tenants/gen")).expect("mkdir");
    }
    for i in 0..tenants {
        let f = common::generated_tenant(i);
        fs::write(to.join(&f.path), f.text).expect("write");
    }
}

/// Save `text` to `path` by rename.
fn save(path: &Path, text: &str) {
    let tmp = path.with_file_name(".save.tmp");
    fs::write(&tmp, text).expect("write temp");
    fs::rename(&tmp, path).expect("rename");
}

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    println!("| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} |", v.len(), ms(v[0]), ms(at(0.5)), ms(at(0.9)), ms(v[v.len() - 1]));
}

fn watcher_latency(opts: WatchOptions, n: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("temp dir");
    write_rules(dir.path(), 0);
    let live = Arc::new(Live::load(RuleSource::Dir(dir.path().to_owned())).expect("load"));
    let _w = watch::spawn(live.clone(), dir.path().to_owned(), opts).expect("watcher");
    std::thread::sleep(Duration::from_millis(200));
    let path = dir.path().join("tenants/default.yaml");
    let mut out = Vec::new();
    for i in 0..n {
        let before = live.current().engine.revision().to_owned();
        let start = Instant::now();
        save(&path, &format!("kind: tenant\ntenant: default\ndescription: edit {i}\n"));
        while live.current().engine.revision() == before {
            assert!(start.elapsed() < Duration::from_secs(10), "no reload after 10 s");
            std::thread::sleep(Duration::from_micros(200));
        }
        out.push(start.elapsed());
        // Let the watcher settle (and the poll tick pass) between edits.
        std::thread::sleep(Duration::from_millis(250));
    }
    out
}

fn reload_cost(tenants: usize, n: usize) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("temp dir");
    write_rules(dir.path(), tenants);
    let live = Live::load(RuleSource::Dir(dir.path().to_owned())).expect("load");
    let path = dir.path().join("tenants/default.yaml");
    (0..n)
        .map(|i| {
            save(&path, &format!("kind: tenant\ntenant: default\ndescription: edit {i}\n"));
            let start = Instant::now();
            let outcome = live.reload("bench");
            let took = start.elapsed();
            assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");
            took
        })
        .collect()
}

fn main() {
    println!("| measure | n | min ms | median ms | p90 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    stats("write → serving, watcher defaults (debounce 150 ms)", watcher_latency(WatchOptions::default(), 30));
    let quick = WatchOptions { debounce: Duration::from_millis(10), ..WatchOptions::default() };
    stats("write → serving, debounce 10 ms", watcher_latency(quick, 30));
    stats("one reload, shipped rules (read, check, compile, swap)", reload_cost(0, 30));
    stats("one reload, 10,000 tenants", reload_cost(10_000, 5));
}
