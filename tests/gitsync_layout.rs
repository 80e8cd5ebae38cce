//! cansend behind a git-sync sidecar (deploy/kubernetes/git-sync/): the
//! volume laid out and updated exactly as git-sync v4 does it, against a
//! real `cansend serve` process watching `<root>/current/rules`.
//!
//! git-sync's layout: `--root` holds the repository (`.git/`), one
//! worktree per synced commit (`.worktrees/<hash>/`, with a `.git` file
//! pointing back into `.git/worktrees/<hash>`), and the `--link` symlink
//! (`current`), relative, to the worktree of the current commit. A new
//! commit is checked out into a new worktree; then a symlink `tmp-link` to
//! it is created and renamed over `current` (an atomic replace); then the
//! old worktree is removed (at once by default; after
//! `--stale-worktree-timeout` when that is set).
//!
//! While worktrees are swapped, clients decide in a loop: every answer must
//! carry one of the known revisions and that revision's decision; a swap
//! to a commit whose rules do not load keeps the serving revision, and
//! shows as degraded until a good commit follows; no good swap is ever
//! seen as a rejected reload.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, reason = "a test fails loudly")]
#![cfg(unix)]

mod fleet_common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fleet_common::{BROKEN, Serve, VIBER_OFF, check_revision, client, codes, copy_dir, get, post, rules_dir, within};
use serde_json::{Value, json};

/// How long a swap may take to serve here (a deadline polled over HTTP on a
/// loaded machine, not a latency figure).
const DEADLINE: Duration = Duration::from_secs(10);

/// A git-sync `--root` with `--link=current`.
struct GitSyncRoot {
    root: PathBuf,
    commits: usize,
}

impl GitSyncRoot {
    fn new(root: &Path) -> Self {
        fs::create_dir_all(root.join(".git/worktrees")).expect("mkdir .git");
        fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").expect("HEAD");
        Self { root: root.to_owned(), commits: 0 }
    }

    /// The link cansend's `--rules` goes through.
    fn rules(&self) -> PathBuf {
        self.root.join("current/rules")
    }

    fn current(&self) -> Option<PathBuf> {
        fs::read_link(self.root.join("current")).ok()
    }

    /// Check out a new commit (its tree made by `tree`, given the worktree
    /// directory) and publish it; the old worktree is removed now, or
    /// returned for the caller to remove later when `keep_old`.
    fn publish(&mut self, tree: impl FnOnce(&Path), keep_old: bool) -> Option<PathBuf> {
        self.commits += 1;
        let hash = format!("{:040x}", 0x5eed_0000_u64 + self.commits as u64);
        let worktree = self.root.join(".worktrees").join(&hash);
        fs::create_dir_all(&worktree).expect("mkdir worktree");
        fs::create_dir_all(self.root.join(".git/worktrees").join(&hash)).expect("mkdir .git/worktrees/<hash>");
        fs::write(worktree.join(".git"), format!("gitdir: ../../.git/worktrees/{hash}\n")).expect(".git file");
        fs::write(worktree.join("README.md"), "Rules of the chat center.\n").expect("README");
        tree(&worktree);
        let old = self.current();
        symlink(Path::new(".worktrees").join(&hash), self.root.join("tmp-link")).expect("tmp-link");
        fs::rename(self.root.join("tmp-link"), self.root.join("current")).expect("rename over the link");
        let old = old.map(|o| self.root.join(o));
        match old {
            Some(o) if !keep_old => {
                remove_worktree(&o);
                None
            }
            other => other,
        }
    }
}

/// Remove a stale worktree, and git's record of it (`git worktree prune`).
fn remove_worktree(worktree: &Path) {
    fs::remove_dir_all(worktree).expect("remove the old worktree");
    if let (Some(hash), Some(root)) = (worktree.file_name(), worktree.parent().and_then(Path::parent)) {
        let _ = fs::remove_dir_all(root.join(".git/worktrees").join(hash));
    }
}

/// The shipped rules under `rules/` of a worktree, with `default`'s tenant
/// file replaced when `tenant` is given.
fn rules_tree(tenant: Option<&'static str>) -> impl FnOnce(&Path) {
    move |wt: &Path| {
        copy_dir(&rules_dir(), &wt.join("rules"));
        if let Some(text) = tenant {
            fs::write(wt.join("rules/tenants/default.yaml"), text).expect("write tenant");
        }
    }
}

/// The probe: an existing Viber client. Allowed while Viber is connected
/// (revision A), `channel_not_connected` when not (revision B).
fn viber() -> Value {
    json!({
        "tenant": "default",
        "sender": { "role": "agent" },
        "client": { "status": "existing", "channels": ["viber"] },
        "channel": "viber",
        "message": { "text": "Hello" }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cansend_follows_git_sync_swaps_all_or_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // The revisions, as `cansend check` reports them for each tree.
    let (rev_a, rev_b) = {
        let a = tmp.path().join("expected-a");
        rules_tree(None)(&a);
        let b = tmp.path().join("expected-b");
        rules_tree(Some(VIBER_OFF))(&b);
        (check_revision(&a.join("rules")), check_revision(&b.join("rules")))
    };
    assert_ne!(rev_a, rev_b);
    let expected = |revision: &str| -> Option<Vec<String>> {
        if revision == rev_a {
            Some(vec![])
        } else if revision == rev_b {
            Some(vec!["channel_not_connected".to_owned()])
        } else {
            None
        }
    };

    let mut git = GitSyncRoot::new(&tmp.path().join("git"));
    git.publish(rules_tree(None), false);
    let serve = Serve::start(&git.rules(), &[]);
    let client = client();
    let rules_url = format!("{}/v1/rules", serve.base);
    assert_eq!(get(&client, &rules_url).await.1["revision"], json!(rev_a), "{}", serve.log());

    // Clients deciding all along, recording what each answer said.
    let stop = Arc::new(AtomicBool::new(false));
    let mut pollers = Vec::new();
    for _ in 0..2 {
        let (client, url, stop) = (client.clone(), format!("{}/v1/can-send", serve.base), stop.clone());
        pollers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = post(&client, &url, &viber()).await;
                seen.push((status, body["revision"].as_str().unwrap_or("").to_owned(), body["allowed"].clone(), codes(&body)));
            }
            seen
        }));
    }
    let serving = |want: String| {
        let (client, url) = (client.clone(), rules_url.clone());
        move || {
            let (client, url, want) = (client.clone(), url.clone(), want.clone());
            async move {
                let body = get(&client, &url).await.1;
                body["revision"] == json!(want) && body["last_error"].is_null()
            }
        }
    };

    // Six good swaps, A and B in turn (a revert is a new commit with the
    // old content: same revision, new worktree). The third keeps its old
    // worktree until the new one serves (`--stale-worktree-timeout`): no
    // file event at all then, only the watcher's polling sees it.
    for i in 0..6 {
        let (tree, want) = if i % 2 == 0 { (rules_tree(Some(VIBER_OFF)), &rev_b) } else { (rules_tree(None), &rev_a) };
        let stale = git.publish(tree, i == 2);
        let took = within(DEADLINE, serving(want.clone())).await;
        assert!(took.is_some(), "swap {i}: {want} did not serve within {DEADLINE:?}\n{}", serve.log());
        if let Some(old) = stale {
            remove_worktree(&old);
        }
    }

    // A commit whose rules do not load: the last good revision (A) keeps
    // serving, and every replica view says why.
    git.publish(
        |wt: &Path| {
            rules_tree(None)(wt);
            fs::write(wt.join("rules/tenants/default.yaml"), BROKEN).expect("write broken");
        },
        false,
    );
    let degraded = within(DEADLINE, || {
        let (client, url) = (client.clone(), rules_url.clone());
        async move { !get(&client, &url).await.1["last_error"].is_null() }
    })
    .await;
    assert!(degraded.is_some(), "the broken commit was not reported within {DEADLINE:?}\n{}", serve.log());
    let rules = get(&client, &rules_url).await.1;
    assert_eq!(rules["revision"], json!(rev_a), "the broken commit did not replace the serving revision: {rules}");
    let broken = rules["last_error"]["revision"].as_str().unwrap_or("").to_owned();
    assert!(broken.starts_with("sha256:") && broken != rev_a && broken != rev_b, "{rules}");
    let errors = rules["last_error"]["errors"].as_array().cloned().unwrap_or_default();
    assert!(errors.iter().any(|e| e["file"] == "tenants/default.yaml" && e["line"].as_u64() >= Some(1)), "{rules}");
    let (status, ready) = get(&client, &format!("{}/readyz", serve.base)).await;
    assert_eq!((status, &ready["status"], &ready["degraded"]), (200, &json!("ready"), &json!(true)), "{ready}");
    assert!(ready["reason"].as_str().is_some_and(|r| r.contains(&broken)), "{ready}");
    // Decisions keep coming from A meanwhile (checked below with the rest).
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The next good commit (B) clears it.
    git.publish(rules_tree(Some(VIBER_OFF)), false);
    assert!(within(DEADLINE, serving(rev_b.clone())).await.is_some(), "recovery to {rev_b}\n{}", serve.log());
    let ready = get(&client, &format!("{}/readyz", serve.base)).await.1;
    assert_eq!(ready["degraded"], json!(false), "{ready}");

    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    for p in pollers {
        answers.extend(p.await.expect("poller"));
    }
    let mut by_revision = std::collections::BTreeMap::<String, usize>::new();
    for (status, revision, allowed, codes) in &answers {
        assert_eq!(*status, 200, "every request answered during the swaps (revision {revision:?})");
        let want = expected(revision);
        assert!(want.is_some(), "an answer from revision {revision:?}, neither {rev_a} nor {rev_b}");
        assert_eq!(Some(codes), want.as_ref(), "revision {revision} answered with another revision's decision");
        assert_eq!(*allowed, json!(codes.is_empty()));
        *by_revision.entry(revision.clone()).or_default() += 1;
    }
    assert_eq!(by_revision.len(), 2, "both revisions answered during the swaps: {by_revision:?}");

    // The history: every good swap applied once, and the only rejected
    // revision is the broken commit's — no good swap was ever read half
    // gone (the old worktree is removed right after the link moves). An
    // entry is written after the swap and the replay of recent requests,
    // so it may trail the revision serving: wait for the seventh.
    let reloads_url = format!("{}/v1/rules/reloads", serve.base);
    let history = || async { get(&client, &reloads_url).await.1["reloads"].as_array().cloned().unwrap_or_default() };
    let outcome = |r: &Value, o: &str| r["outcome"] == o;
    within(DEADLINE, || async { history().await.iter().filter(|r| outcome(r, "applied")).count() >= 7 }).await;
    let reloads = history().await;
    // One line per reload, newest first: the samples are left out.
    let shown: Vec<String> =
        reloads.iter().map(|r| format!("{} {} {} {}", r["trigger"], r["outcome"], r["revision"], r["rejected"]["revision"])).collect();
    let applied: Vec<&Value> = reloads.iter().filter(|r| outcome(r, "applied")).collect();
    let rejected: Vec<&Value> = reloads.iter().filter(|r| outcome(r, "rejected")).collect();
    assert_eq!(applied.len(), 7, "six swaps and the recovery, each applied once: {shown:#?}");
    for r in &applied {
        let known = |k: &str| expected(r[k].as_str().unwrap_or("")).is_some();
        assert!(known("revision") && known("previous"), "{shown:#?}");
    }
    assert!(!rejected.is_empty(), "{shown:#?}");
    for r in &rejected {
        assert_eq!(r["rejected"]["revision"], json!(broken), "only the broken commit was rejected: {shown:#?}");
    }
}
