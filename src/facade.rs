//! [`Engine`]: one compiled revision of a rule set, and everything a caller
//! asks of it — a decision, its explanation, what the send dialog may
//! offer, a tenant's effective settings.
//!
//! This is the one path from a request to an answer: decode (the caller's,
//! with [`Request::from_slice`] or [`Request::from_json`]) → bind (names
//! resolved against this revision) → evaluate (the pure engine) → render
//! (names, messages, values). The HTTP handlers, batches, `cansend eval`,
//! `cansend check`, the replay of recent requests and the fuzz targets all
//! decide through it, so none of them can answer differently.
//!
//! An `Engine` is immutable: to take up changed rule files, build a new one
//! and swap it in (the service keeps its current one in an `ArcSwap`).
//!
//! [`Request`]: crate::Request
//! [`Request::from_slice`]: crate::Request::from_slice
//! [`Request::from_json`]: crate::Request::from_json

use std::path::Path;

use crate::engine::decision::Decision;
use crate::engine::input::Input;
use crate::engine::model::RuleSet;
use crate::engine::{Scope, evaluate, evaluate_as_written, options};
use crate::render::{self, Answer, SendOptionsBody, TenantView};
use crate::request::options::{SendOptionsRequest, bind_options};
use crate::request::{self, CanSendRequest, FieldError, RequestError};
use crate::rules::{self, Diagnostic, LoadError, RuleTest, SourceFile};

/// One compiled revision of a rule set.
///
/// ```
/// let engine = cansend::Engine::builtin().expect("the built-in rules load");
/// let request = cansend::Request::from_slice(br#"{
///     "sender": {"role": "agent"},
///     "client": {"status": "existing", "blocked": true, "channels": ["whatsapp"]},
///     "channel": "whatsapp",
///     "message": {"text": "Hello"}
/// }"#).expect("a valid request");
/// let answer = engine.decide(&request, cansend::now_ms()).expect("known names");
/// assert!(!answer.allowed);
/// assert_eq!(answer.violations[0].code, "client_blocked");
/// ```
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    /// The rules' revision, shared cheaply with what records decisions.
    revision: std::sync::Arc<str>,
    warnings: Vec<Diagnostic>,
    tests: Vec<RuleTest>,
}

/// A rule file of a loaded set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInfo<'e> {
    /// Path relative to the rules directory, `/`-separated.
    pub path: &'e str,
    /// `catalog`, `settings`, `rules`, `tenant` or `tests`.
    pub kind: &'e str,
    /// SHA-256 of its content, hex.
    pub sha256: &'e str,
}

/// The names a loaded rule set declares, in declaration order — what a UI
/// lists, what an embedder checks its requests against.
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'e> {
    rs: &'e RuleSet,
}

/// A rule (or an exception) of a loaded set, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo<'e> {
    /// Its id.
    pub id: &'e str,
    /// What it is for, as written.
    pub description: Option<&'e str>,
    /// The code of its violation (`None` for an exception).
    pub code: Option<&'e str>,
    /// It is evaluated once per attachment (`each: attachment`).
    pub per_attachment: bool,
    /// For an exception, the rules it carves out.
    pub overrides: Vec<&'e str>,
    /// Its file, relative to the rules directory, and line and column.
    pub file: &'e str,
    /// Line of its declaration.
    pub line: u32,
    /// Column of its declaration (0 for exceptions).
    pub column: u32,
}

fn names(n: &crate::engine::model::Names) -> impl Iterator<Item = &str> {
    n.names.iter().map(|s| &**s)
}

impl<'e> Catalog<'e> {
    /// The channels.
    pub fn channels(self) -> impl Iterator<Item = &'e str> {
        names(&self.rs.channels)
    }
    /// The sender roles.
    pub fn roles(self) -> impl Iterator<Item = &'e str> {
        names(&self.rs.roles)
    }
    /// The actions of the send dialog's last step.
    pub fn actions(self) -> impl Iterator<Item = &'e str> {
        names(&self.rs.actions)
    }
    /// The UI capabilities of roles.
    pub fn capabilities(self) -> impl Iterator<Item = &'e str> {
        names(&self.rs.capabilities)
    }
    /// The client statuses (`existing`, `new`).
    pub fn client_statuses(self) -> impl Iterator<Item = &'e str> {
        names(&self.rs.client_statuses)
    }
    /// The tenants.
    pub fn tenants(self) -> impl Iterator<Item = &'e str> {
        names(&self.rs.tenants)
    }
    /// The violation codes, each with its default message.
    pub fn codes(self) -> impl Iterator<Item = (&'e str, &'e str)> {
        self.rs.codes.iter().map(|c| (&*c.name, &*c.message))
    }
    /// The declared settings: tenant-wide, per channel, per role.
    pub fn settings(self) -> [Vec<&'e str>; 3] {
        let n = |defs: &'e [crate::engine::model::SettingDef]| defs.iter().map(|d| &*d.name).collect();
        [n(&self.rs.tenant_settings), n(&self.rs.channel_settings), n(&self.rs.role_settings)]
    }
    /// The declared settings with their types (as written: `size`,
    /// `set<channel>`) and descriptions: tenant-wide, per channel, per role.
    pub fn setting_types(self) -> [Vec<(&'e str, String, Option<&'e str>)>; 3] {
        let n = |defs: &'e [crate::engine::model::SettingDef]| {
            defs.iter().map(|d| (&*d.name, d.ty.to_string(), d.description.as_deref())).collect()
        };
        [n(&self.rs.tenant_settings), n(&self.rs.channel_settings), n(&self.rs.role_settings)]
    }
    /// The custom attributes declared for the client and for the sender, with their types.
    pub fn attributes(self) -> [Vec<(&'e str, String)>; 2] {
        let a = |defs: &'e [crate::engine::model::AttrDef]| defs.iter().map(|d| (&*d.name, d.ty.to_string())).collect();
        [a(&self.rs.client_attrs), a(&self.rs.sender_attrs)]
    }
    /// The rules, in evaluation order.
    pub fn rules(self) -> impl Iterator<Item = RuleInfo<'e>> {
        let rs = self.rs;
        rs.rules.iter().map(move |r| RuleInfo {
            id: &r.id,
            description: r.description.as_deref(),
            code: rs.codes.get(r.code as usize).map(|c| &*c.name),
            per_attachment: r.per_attachment,
            overrides: Vec::new(),
            file: rs.file_path(r.file),
            line: r.line,
            column: r.column,
        })
    }
    /// The exceptions.
    pub fn exceptions(self) -> impl Iterator<Item = RuleInfo<'e>> {
        let rs = self.rs;
        rs.exceptions.iter().map(move |x| RuleInfo {
            id: &x.id,
            description: x.description.as_deref(),
            code: None,
            per_attachment: false,
            overrides: x.overrides.iter().filter_map(|r| rs.rules.get(*r as usize)).map(|r| &*r.id).collect(),
            file: rs.file_path(x.file),
            line: x.line,
            column: 0,
        })
    }
}

/// A request bound and evaluated, before rendering: what the replay of
/// recent requests and the rule tests compare.
pub(crate) struct Evaluated<'e> {
    engine: &'e Engine,
    pub input: Input,
    pub decision: Decision,
}

impl<'e> Evaluated<'e> {
    /// The answer callers receive.
    pub fn answer(&self) -> Answer<'e> {
        render::decision::answer(&self.engine.rules, &self.input, &self.decision)
    }

    /// The codes of the violations, sorted (with repeats).
    pub fn codes(&self) -> Vec<&'e str> {
        let rs = &self.engine.rules;
        let mut v: Vec<&str> = self
            .decision
            .violations
            .iter()
            .filter_map(|h| rs.rules.get(h.rule as usize))
            .filter_map(|r| rs.codes.get(r.code as usize))
            .map(|c| &*c.name)
            .collect();
        v.sort_unstable();
        v
    }
}

impl Engine {
    /// Read and compile the rule directory `dir`. Every problem of every
    /// file comes back at once in the error, each located (file:line:col).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, LoadError> {
        Self::load(&rules::read(&rules::Source::Dir(dir.as_ref().to_owned())))
    }

    /// The default rules built into the binary.
    pub fn builtin() -> Result<Self, LoadError> {
        Self::load(&rules::read(&rules::Source::Builtin))
    }

    /// Compile rule files held in memory (paths relative to a rules directory).
    pub fn from_sources(files: &[SourceFile]) -> Result<Self, LoadError> {
        Self::load(&rules::Read::files(files.to_vec()))
    }

    /// Compile what a read found.
    pub(crate) fn load(read: &rules::Read) -> Result<Self, LoadError> {
        let compiled = rules::compile(read)?;
        let revision = std::sync::Arc::from(&*compiled.rules.revision);
        Ok(Self { rules: compiled.rules, revision, warnings: compiled.warnings, tests: compiled.tests })
    }

    /// The revision: the content hash of every rule file, `sha256:…`.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The revision, to keep beside what it decided.
    pub(crate) fn revision_shared(&self) -> std::sync::Arc<str> {
        self.revision.clone()
    }

    /// The revision, shared, borrowed.
    pub(crate) fn revision_arc(&self) -> &std::sync::Arc<str> {
        &self.revision
    }

    /// What the load had to say that does not stop the rules from serving
    /// (an override that has expired or expires soon, …).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The rule files, in path order.
    pub fn files(&self) -> impl Iterator<Item = FileInfo<'_>> {
        self.rules.files.iter().map(|f| FileInfo { path: &f.path, kind: &f.kind, sha256: &f.sha256 })
    }

    /// The tenants, in the order they were declared.
    pub fn tenants(&self) -> impl Iterator<Item = &str> {
        self.catalog().tenants()
    }

    /// The tenant of a request that names none (the rules' `request_defaults`).
    pub fn default_tenant(&self) -> &str {
        self.rules.tenants.name(self.rules.default_tenant)
    }

    /// The action of a request that names none (the rules' `request_defaults`).
    pub fn default_action(&self) -> &str {
        self.rules.actions.name(self.rules.default_action)
    }

    /// Every name the rules declare: channels, roles, codes, rules, …
    pub fn catalog(&self) -> Catalog<'_> {
        Catalog { rs: &self.rules }
    }

    /// The rule tests written beside the rules (run by `cansend check`).
    pub fn tests(&self) -> &[RuleTest] {
        &self.tests
    }

    /// May this sender send this message to this client over this channel?
    /// `now` (ms since the epoch, e.g. [`crate::now_ms`]) is the instant of
    /// a request without `at`.
    pub fn decide(&self, request: &CanSendRequest, now: i64) -> Result<Answer<'_>, RequestError> {
        self.decide_with(request, now, false)
    }

    /// [`Engine::decide`], with a trace of every rule evaluated: each
    /// condition with the values it compared, and each rule's file:line.
    pub fn explain(&self, request: &CanSendRequest, now: i64) -> Result<Answer<'_>, RequestError> {
        self.decide_with(request, now, true)
    }

    /// [`Engine::decide`] or, with `explain`, [`Engine::explain`].
    pub fn decide_with(&self, request: &CanSendRequest, now: i64, explain: bool) -> Result<Answer<'_>, RequestError> {
        Ok(self.evaluate(request, now, explain)?.answer())
    }

    /// What the send dialog may offer this sender for this client.
    pub fn send_options(&self, request: &SendOptionsRequest, now: i64) -> Result<SendOptionsBody<'_>, RequestError> {
        let input = bind_options(&self.rules, request, now)?;
        let options = options::send_options(&self.rules, &input);
        Ok(render::options::send_options(&self.rules, &input, &options))
    }

    /// A tenant's effective settings at instant `at` (ms since the epoch),
    /// each with its provenance; `None` for a tenant the rules do not have.
    pub fn tenant_view(&self, tenant: &str, at: i64) -> Option<TenantView> {
        render::tenant::view(&self.rules, tenant, at)
    }

    /// How far ahead [`Engine::expiry_warnings`] warns by default: 14 days.
    pub const WARN_EXPIRY_MS: i64 = 14 * 24 * 3600 * 1000;

    /// Warnings about tenant overrides at instant `now`: each one that has
    /// expired (the default applies again), and each one that expires
    /// within `within` ms — located at its `expires`, so tech support can
    /// extend or remove it before a limit changes under a tenant.
    pub fn expiry_warnings(&self, now: i64, within: i64) -> Vec<Diagnostic> {
        let pos = |e: &render::tenant::Expiry<'_>| crate::rules::diag::Pos { line: e.line, column: e.column };
        self.expiring_overrides()
            .iter()
            .filter_map(|e| {
                let message = if e.until <= now {
                    format!("the override of `{}` expired on {}: the default applies again", e.setting, e.expires)
                } else if e.until.saturating_sub(now) <= within {
                    let days = (e.until - now + 86_399_999) / 86_400_000;
                    format!("the override of `{}` expires on {} (in {days} day(s)): the default applies from then", e.setting, e.expires)
                } else {
                    return None;
                };
                let hint = Some("extend `expires` (with the ticket that asks for it), or remove the override".to_owned());
                Some(Diagnostic::warning(e.file, pos(e), message).with_rule(Some(e.tenant)).with_hint(hint))
            })
            .collect()
    }

    /// Every tenant override that has an expiry, by tenant and setting.
    pub fn expiring_overrides(&self) -> Vec<render::tenant::Expiry<'_>> {
        render::tenant::expiries(&self.rules)
    }

    /// The compiled rule set, for the rest of the crate.
    pub(crate) fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The compiled rule set, for the crate's own benchmarks, fuzz targets
    /// and engine tests (which time or probe the engine without the
    /// facade). Not a stable interface.
    #[doc(hidden)]
    pub fn rule_set(&self) -> &RuleSet {
        &self.rules
    }

    /// Bind and evaluate `request`: the one call of the engine.
    pub(crate) fn evaluate(&self, request: &CanSendRequest, now: i64, explain: bool) -> Result<Evaluated<'_>, Vec<FieldError>> {
        let input = request::bind(&self.rules, request, now)?;
        let decision = evaluate(&self.rules, &input, explain);
        Ok(Evaluated { engine: self, input, decision })
    }

    /// Whether the compiled plans (folded per channel, and explained)
    /// decide `ev` as the rules read as written do: `None` when they agree,
    /// else what differs. `cansend check` holds every rule test to it.
    pub(crate) fn cross_check(&self, ev: &Evaluated<'_>) -> Option<String> {
        let plain = evaluate(&self.rules, &ev.input, false);
        let explained = evaluate(&self.rules, &ev.input, true);
        let reference = evaluate_as_written(&self.rules, &ev.input, Scope::All, false);
        (plain.violations != reference.violations || explained.violations != reference.violations).then(|| {
            format!(
                "engine fault: the compiled plans decided {:?} (explained: {:?}), the rules as interpreted {:?} (please report this)",
                plain.violations, explained.violations, reference.violations
            )
        })
    }
}

/// The engine's own pieces, for the crate's benchmarks, fuzz targets and
/// engine tests, which time or probe them apart from [`Engine`]. Not a
/// stable interface: embedders use [`Engine`].
#[doc(hidden)]
pub mod internals {
    pub use crate::engine::decision::Decision;
    pub use crate::engine::input::Input;
    pub use crate::engine::model::RuleSet;
    use crate::request::{CanSendRequest, FieldError};

    /// Every rule of `rs` against `input` (bound against `rs`).
    pub fn evaluate(rs: &RuleSet, input: &Input, explain: bool) -> Decision {
        super::evaluate(rs, input, explain)
    }

    /// Decode a request's shape, every problem with its pointer.
    pub fn decode(v: &serde_json::Value) -> Result<CanSendRequest, Vec<FieldError>> {
        crate::request::decode(v)
    }

    /// Resolve a decoded request against `rs`.
    pub fn bind(rs: &RuleSet, r: &CanSendRequest, now: i64) -> Result<Input, Vec<FieldError>> {
        crate::request::bind(rs, r, now)
    }

    /// Decode and bind.
    pub fn parse(rs: &RuleSet, v: &serde_json::Value, now: i64) -> Result<Input, Vec<FieldError>> {
        crate::request::parse(rs, v, now)
    }

    /// One rule file as the loader reads it: its JSON tree (also when it
    /// fails its schema), and its diagnostics.
    pub fn parse_file(path: &str, text: &str) -> (Option<serde_json::Value>, Vec<crate::Diagnostic>) {
        let (file, diags) = crate::rules::load::parse(&crate::SourceFile { path: path.into(), text: text.into() });
        (file.map(|f| f.value), diags)
    }

    /// The revision a load of `dir` would report now (its files' content
    /// hash, unreadable entries included), whether or not they load.
    pub fn revision_of_dir(dir: &std::path::Path) -> String {
        crate::rules::read(&crate::rules::Source::Dir(dir.to_path_buf())).revision
    }

    /// Read a rules directory: the files, and what could not be read.
    pub fn read_dir(dir: &std::path::Path) -> (Vec<crate::SourceFile>, Vec<String>) {
        let (files, errors) = crate::rules::source::read_dir(dir);
        (files, errors.into_iter().map(|e| e.to_string()).collect())
    }
}
