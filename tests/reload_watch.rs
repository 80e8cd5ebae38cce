//! Hot reload with real files on disk: every way files change makes the new
//! revision serve (waiting up to 2 s, polling — a deadline, not a timing
//! assertion), broken sets never serve, and recovery works.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cansend::reload::watch::{self, WatchOptions};
use cansend::reload::{Live, RuleSource};

fn write_rules(to: &Path) {
    for f in cansend::builtin_rules() {
        let p = to.join(&f.path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, f.text).unwrap();
    }
}

fn start(dir: &Path) -> (Arc<Live>, watch::Watcher) {
    let live = Arc::new(Live::load(RuleSource::Dir(dir.to_owned())).expect("rules load"));
    let w = watch::spawn(live.clone(), dir.to_owned(), WatchOptions::default()).expect("watcher");
    // Let the watcher arm before changing anything.
    std::thread::sleep(Duration::from_millis(100));
    (live, w)
}

fn revision(live: &Live) -> String {
    live.current().engine.revision().to_owned()
}

/// Wait until `f` holds, at most `limit`.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

const TWO_SECONDS: Duration = Duration::from_secs(2);

fn has_tenant(live: &Live, name: &str) -> bool {
    live.current().engine.tenants().any(|t| t == name)
}

fn tenant(name: &str) -> String {
    format!("kind: tenant\ntenant: {name}\n")
}

#[test]
fn in_place_write() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let (live, _w) = start(dir.path());
    fs::write(dir.path().join("tenants/default.yaml"), "kind: tenant\ntenant: default\ndescription: edited in place\n").unwrap();
    assert!(eventually(TWO_SECONDS, || live
        .current()
        .engine
        .tenant_view("default", 0)
        .is_some_and(|t| t.description.as_deref() == Some("edited in place"))));
}

#[test]
fn save_by_rename() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let (live, _w) = start(dir.path());
    let before = revision(&live);
    let tmp = dir.path().join("tenants/.default.yaml.swp");
    fs::write(&tmp, "kind: tenant\ntenant: default\ndescription: saved by rename\n").unwrap();
    fs::rename(&tmp, dir.path().join("tenants/default.yaml")).unwrap();
    assert!(eventually(TWO_SECONDS, || revision(&live) != before));
    assert_eq!(live.current().engine.tenant_view("default", 0).and_then(|t| t.description).as_deref(), Some("saved by rename"));
}

#[test]
fn create_rename_delete() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let (live, _w) = start(dir.path());
    fs::write(dir.path().join("tenants/acme.yaml"), tenant("acme")).unwrap();
    assert!(eventually(TWO_SECONDS, || has_tenant(&live, "acme")));
    fs::rename(dir.path().join("tenants/acme.yaml"), dir.path().join("tenants/acme2.yml")).unwrap();
    let after_rename = revision(&live);
    assert!(eventually(TWO_SECONDS, || revision(&live) != after_rename), "a rename changes the revision (paths are hashed)");
    fs::remove_file(dir.path().join("tenants/acme2.yml")).unwrap();
    assert!(eventually(TWO_SECONDS, || !has_tenant(&live, "acme")));
}

#[test]
fn many_files_at_once_like_git_checkout() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let (live, _w) = start(dir.path());
    for i in 0..30 {
        fs::write(dir.path().join(format!("tenants/t{i}.yaml")), tenant(&format!("t{i}"))).unwrap();
    }
    fs::write(dir.path().join("tenants/default.yaml"), "kind: tenant\ntenant: default\ndescription: checked out\n").unwrap();
    assert!(eventually(TWO_SECONDS, || (0..30).all(|i| has_tenant(&live, &format!("t{i}")))
        && live.current().engine.tenant_view("default", 0).and_then(|t| t.description).as_deref() == Some("checked out")));
}

#[test]
fn burst_of_100_writes_ends_on_the_final_content() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let (live, _w) = start(dir.path());
    let path = dir.path().join("tenants/default.yaml");
    for i in 0..100 {
        fs::write(&path, format!("kind: tenant\ntenant: default\ndescription: write {i}\n")).unwrap();
    }
    assert!(eventually(TWO_SECONDS, || live.current().engine.tenant_view("default", 0).and_then(|t| t.description).as_deref()
        == Some("write 99")));
}

#[test]
fn broken_file_keeps_serving_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let (live, _w) = start(dir.path());
    let good = revision(&live);
    fs::write(
        dir.path().join("eligibility.yaml"),
        "kind: rules\nrules:\n  - id: x\n    deny: { client.blokced: true }\n    code: client_blocked\n",
    )
    .unwrap();
    assert!(eventually(TWO_SECONDS, || live.last_error().is_some()));
    assert_eq!(revision(&live), good, "the last good revision keeps serving");
    let err = live.last_error().unwrap();
    let d = err.errors.iter().find(|d| d.file == "eligibility.yaml").expect("located diagnostic");
    assert_eq!((d.line, d.column), (4, 13));
    assert!(d.hint.as_deref().unwrap_or("").contains("client.blocked"));
    // The next good write clears it.
    fs::write(dir.path().join("tenants/acme.yaml"), tenant("acme")).unwrap();
    let orig = cansend::builtin_rules().into_iter().find(|f| f.path == "eligibility.yaml").unwrap();
    fs::write(dir.path().join("eligibility.yaml"), orig.text).unwrap();
    assert!(eventually(TWO_SECONDS, || has_tenant(&live, "acme") && live.last_error().is_none()));
}

/// A Kubernetes ConfigMap volume: visible names are symlinks through
/// `..data`, which points at a timestamped directory; an update writes a new
/// directory and swaps `..data` atomically.
#[cfg(unix)]
#[test]
fn configmap_symlink_swap() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let v1 = root.join("..2026_11_24_10_00_00.1");
    write_rules(&v1);
    symlink("..2026_11_24_10_00_00.1", root.join("..data")).unwrap();
    for name in ["catalog.yaml", "settings.yaml", "eligibility.yaml", "message.yaml", "tenants", "tests"] {
        symlink(PathBuf::from("..data").join(name), root.join(name)).unwrap();
    }
    let (live, _w) = start(root);
    // Loaded once: each file through its visible link, not again through ..data.
    assert_eq!(live.current().engine.tenants().count(), 3);
    let before = revision(&live);

    let v2 = root.join("..2026_11_24_10_05_00.2");
    write_rules(&v2);
    fs::write(v2.join("tenants/acme.yaml"), tenant("acme")).unwrap();
    symlink("..2026_11_24_10_05_00.2", root.join("..data_tmp")).unwrap();
    fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    fs::remove_dir_all(&v1).unwrap();
    assert!(eventually(TWO_SECONDS, || has_tenant(&live, "acme")));
    assert_ne!(revision(&live), before);
    assert!(live.last_error().is_none(), "{:?}", live.last_error());
}

#[test]
fn watched_directory_replaced_wholesale() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("rules");
    write_rules(&dir);
    let (live, _w) = start(&dir);
    let next = parent.path().join("rules.new");
    write_rules(&next);
    fs::write(next.join("tenants/acme.yaml"), tenant("acme")).unwrap();
    fs::rename(&dir, parent.path().join("rules.old")).unwrap();
    fs::rename(&next, &dir).unwrap();
    assert!(eventually(TWO_SECONDS, || has_tenant(&live, "acme")));
    // And the re-armed watcher sees later edits.
    fs::write(dir.join("tenants/later.yaml"), tenant("later")).unwrap();
    assert!(eventually(TWO_SECONDS, || has_tenant(&live, "later")));
}

#[test]
fn polling_sees_an_edit_that_keeps_size_and_mtime() {
    // No file events (a network file system), and an edit that keeps the
    // file's size and modification time (`cp -p`, `rsync -t`): only the
    // content hash of the polling fallback can see it.
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let path = dir.path().join("tenants/default.yaml");
    fs::write(&path, "kind: tenant\ntenant: default\ndescription: aaaa\n").unwrap();
    let live = Arc::new(Live::load(RuleSource::Dir(dir.path().to_owned())).expect("rules load"));
    let opts = WatchOptions { poll: Duration::from_millis(40), events: false, ..WatchOptions::default() };
    let _w = watch::spawn(live.clone(), dir.path().to_owned(), opts).expect("watcher");
    std::thread::sleep(Duration::from_millis(100));
    let before = revision(&live);
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    fs::write(&path, "kind: tenant\ntenant: default\ndescription: bbbb\n").unwrap();
    fs::File::options().write(true).open(&path).unwrap().set_modified(mtime).unwrap();
    // Ten polls of 40 ms pass before the content is hashed.
    assert!(eventually(TWO_SECONDS, || revision(&live) != before), "the edit was not seen");
    let hits = live.history();
    assert_eq!(hits.first().map(|r| r.trigger.as_str()), Some("poll"), "{hits:?}");
}

#[test]
fn polling_does_not_reject_the_same_broken_files_again() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let live = Arc::new(Live::load(RuleSource::Dir(dir.path().to_owned())).expect("rules load"));
    let opts = WatchOptions { poll: Duration::from_millis(20), events: false, ..WatchOptions::default() };
    let _w = watch::spawn(live.clone(), dir.path().to_owned(), opts).expect("watcher");
    std::thread::sleep(Duration::from_millis(60));
    fs::write(dir.path().join("tenants/broken.yaml"), "kind: tenant\ntenant: [\n").unwrap();
    assert!(eventually(TWO_SECONDS, || live.last_error().is_some()), "the broken file was rejected");
    // Many content polls later, still one rejection: nothing new to say.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(live.counters.rejected.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(live.history().len(), 1, "{:?}", live.history());
}

#[test]
fn polling_waits_for_a_write_to_finish() {
    // A tenant file written in two steps (an upload, a slow copy): the
    // first half is itself a valid file. Polling must not apply it — it
    // waits until the files hold still for the debounce (1 s here, ten
    // times the gap between the two writes).
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let live = Arc::new(Live::load(RuleSource::Dir(dir.path().to_owned())).expect("rules load"));
    let opts = WatchOptions {
        poll: Duration::from_millis(20),
        debounce: Duration::from_secs(1),
        max_delay: Duration::from_secs(5),
        events: false,
    };
    let _w = watch::spawn(live.clone(), dir.path().to_owned(), opts).expect("watcher");
    std::thread::sleep(Duration::from_millis(100));
    let path = dir.path().join("tenants/acme.yaml");
    fs::write(&path, tenant("acme")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    fs::write(&path, format!("{}description: complete\n", tenant("acme"))).unwrap();
    let complete = || live.current().engine.tenants().any(|t| t == "acme");
    assert!(eventually(Duration::from_secs(5), complete), "the finished file was not applied");
    let applied: Vec<_> = live.history().into_iter().filter(|r| r.trigger == "poll").collect();
    assert_eq!(applied.len(), 1, "one reload, of the finished file: {applied:?}");
    let finished = Live::load(RuleSource::Dir(dir.path().to_owned())).expect("rules load");
    assert_eq!(revision(&live), finished.current().engine.revision().to_owned(), "the half-written file served");
}
