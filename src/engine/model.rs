//! The compiled rule set: what the engine runs.
//!
//! Built once per load by `rules::compile`, then immutable and shared by
//! `Arc` between every request that evaluates against it. Names are
//! resolved to indices, literals parsed, settings flattened per tenant, so
//! evaluation does no lookups by name.

use std::collections::HashMap;
use std::sync::Arc;

use super::value::{Domain, Ty, Value};

/// A readable handle on one field of the request (or a setting) that a
/// condition reads. The request contract lives here; what the fields mean
/// for sending lives in the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Tenant,
    Action,
    Channel,
    At,
    SenderRole,
    SenderId,
    SenderStatus,
    SenderAttr(u16),
    ClientStatus,
    ClientBlocked,
    ClientActiveThread,
    ClientChannels,
    ClientEmail,
    ClientPhone,
    ClientExternalId,
    ClientLastInboundAt,
    ClientAttr(u16),
    ThreadTags,
    MessageText,
    MessageTextLength,
    MessageTemplate,
    MessageTemplateName,
    MessageTemplateHeader,
    MessageTemplateFooter,
    AttachmentsCount,
    AttachmentsTotalSize,
    AttachmentName,
    AttachmentExtension,
    AttachmentSize,
    TenantSetting(u16),
    ChannelSetting(u16),
    RoleSetting(u16),
}

impl Field {
    /// Fields that only exist inside a rule with `each: attachment`.
    pub fn per_attachment(self) -> bool {
        matches!(self, Field::AttachmentName | Field::AttachmentExtension | Field::AttachmentSize)
    }

    /// Fields of the thread the message goes to (its tags), which the
    /// sender sets in the send dialog like the message itself.
    pub fn about_thread(self) -> bool {
        matches!(self, Field::ThreadTags)
    }

    /// Fields that describe the message (as opposed to who sends to whom).
    pub fn about_message(self) -> bool {
        matches!(
            self,
            Field::MessageText
                | Field::MessageTextLength
                | Field::MessageTemplate
                | Field::MessageTemplateName
                | Field::MessageTemplateHeader
                | Field::MessageTemplateFooter
                | Field::AttachmentsCount
                | Field::AttachmentsTotalSize
        ) || self.per_attachment()
    }
}

/// One side of a comparison.
#[derive(Debug, Clone)]
pub enum Operand {
    Field(Field),
    Const(Value),
}

/// Comparison operators; the compiler has checked operand types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Contains,
    NotContains,
    AnyIn,
    NoneIn,
    AllIn,
    /// Timestamp within the duration before `at` (future instants count as within).
    Within,
    NotWithin,
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    All(Box<[Cond]>),
    Any(Box<[Cond]>),
    Not(Box<Cond>),
    Cmp {
        field: Field,
        op: Op,
        rhs: Operand,
        text: u32,
    },
    /// `present: true|false` — the field was given (and is not blank text).
    Present {
        field: Field,
        expect: bool,
        text: u32,
    },
    /// `blank: true|false` — text absent, empty or only white space.
    Blank {
        field: Field,
        expect: bool,
        text: u32,
    },
    /// `empty: true|false` — a set with no members.
    Empty {
        field: Field,
        expect: bool,
        text: u32,
    },
    /// Local time of day of an instant, in a zone, within [from, to) minutes
    /// after midnight; wraps past midnight when from > to.
    LocalTime {
        field: Field,
        from: u32,
        to: u32,
        tz: Operand,
        expect: bool,
        text: u32,
    },
}

/// A deny rule: when its condition holds, the decision carries its violation.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Box<str>,
    pub description: Option<Box<str>>,
    pub code: u32,
    pub message: Option<Box<str>>,
    pub per_attachment: bool,
    /// Reads a message field (or is per attachment). `send-options` says
    /// whether a channel is sendable at all from the rules that read
    /// neither the message nor the thread — who sends to whom, over what.
    pub about_message: bool,
    /// Reads a thread field (tags). The dialog reports those through its
    /// `tags` section (required, available), not per channel.
    pub about_thread: bool,
    pub cond: Cond,
    /// Exceptions that can carve this rule out, by index.
    pub exceptions: Box<[u32]>,
    pub file: u32,
    pub line: u32,
    pub column: u32,
}

/// An exception: when its condition holds, the rules it overrides do not fire.
#[derive(Debug, Clone)]
pub struct Exception {
    pub id: Box<str>,
    pub description: Option<Box<str>>,
    pub cond: Cond,
    pub overrides: Box<[u32]>,
    pub file: u32,
    pub line: u32,
}

/// A condition leaf as written, for explanations: what it reads, how it
/// compares, with what — each part apart, so an explanation shows them
/// without parsing text.
#[derive(Debug, Clone)]
pub struct LeafInfo {
    /// The leaf as one line: `attachment.size gt $channel.max_file_size`.
    pub text: Box<str>,
    /// The field path as written (`attachment.size`).
    pub path: Box<str>,
    /// The field the leaf reads, and its type.
    pub field: Field,
    pub ty: Ty,
    /// The operator as written (`gt`, `present`, `local_time`).
    pub op: Box<str>,
    /// The operand as written (`true`, `[whatsapp, viber]`, `$channel.max_file_size`).
    pub operand: Box<str>,
    /// When the operand reads another field (`$…`): that field and its type.
    pub rhs: Option<(Field, Ty)>,
}

/// A violation code and its default message.
#[derive(Debug, Clone)]
pub struct Code {
    pub name: Box<str>,
    pub message: Box<str>,
}

/// A declared setting (tenant-wide, per channel or per role).
#[derive(Debug, Clone)]
pub struct SettingDef {
    pub name: Box<str>,
    pub ty: Ty,
    pub description: Option<Box<str>>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub tighten_only: bool,
    pub locked: bool,
}

/// A declared custom attribute of the client or the sender.
#[derive(Debug, Clone)]
pub struct AttrDef {
    pub name: Box<str>,
    pub ty: Ty,
}

/// Where a value was written: file index, line, column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    pub file: u32,
    pub line: u32,
    pub column: u32,
}

/// An effective setting of one tenant.
#[derive(Debug, Clone)]
pub enum Slot {
    Value(Value),
    /// A tenant override with an expiry: `value` until `until` (exclusive,
    /// ms since epoch), then `then`.
    Expiring(Box<Expiring>),
}

#[derive(Debug, Clone)]
pub struct Expiring {
    pub value: Value,
    pub until: i64,
    pub then: Value,
}

impl Slot {
    #[inline]
    pub fn at(&self, at: i64) -> &Value {
        match self {
            Slot::Value(v) => v,
            Slot::Expiring(e) => {
                if at < e.until {
                    &e.value
                } else {
                    &e.then
                }
            }
        }
    }
}

/// Provenance of one tenant override.
#[derive(Debug, Clone)]
pub struct OverrideInfo {
    /// Where the value is written.
    pub origin: Origin,
    /// The ticket that asked for it.
    pub ticket: Option<Box<str>>,
    /// Its expiry as written.
    pub expires: Option<Box<str>>,
    /// Where the expiry is written (the value's origin when there is none).
    pub expires_origin: Origin,
    /// Why it is there.
    pub note: Option<Box<str>>,
}

/// Which setting a tenant override is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SettingKey {
    Tenant(u16),
    Channel(u32, u16),
    Role(u32, u16),
}

/// One tenant, settings flattened (defaults, channel defaults, overrides).
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: Box<str>,
    pub description: Option<Box<str>>,
    pub file: u32,
    pub tenant: Box<[Slot]>,
    /// `[channel * n_channel_settings + setting]`
    pub channel: Arc<[Slot]>,
    /// `[role * n_role_settings + setting]`
    pub role: Arc<[Slot]>,
    pub messages: HashMap<u32, Box<str>>,
    pub overrides: HashMap<SettingKey, OverrideInfo>,
}

/// The hasher of name lookups: every request looks up its tenant,
/// channel, role, action and client status by name, and SipHash cost more
/// than the rest of binding. The maps are built from the rule files and
/// only read with request input, never grown by it, so a hash-flooding
/// defence buys nothing here.
pub type NameHasher = foldhash::fast::RandomState;

/// The names of one catalog domain, interned.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub names: Vec<Box<str>>,
    pub titles: Vec<Option<Box<str>>>,
    pub index: HashMap<Box<str>, u32, NameHasher>,
}

impl Names {
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map(|s| &**s).unwrap_or("?")
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn push(&mut self, name: &str, title: Option<&str>) -> u32 {
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.titles.push(title.map(Into::into));
        self.index.insert(name.into(), i);
        i
    }
}

/// A setting reference resolved for `send-options`.
#[derive(Debug, Clone, Copy)]
pub enum SettingRef {
    Tenant(u16),
    Channel(u16),
    Role(u16),
}

#[derive(Debug, Clone)]
pub struct SendOptionsMap {
    pub attachment_formats: SettingRef,
    pub max_file_size: SettingRef,
    pub max_total_size: SettingRef,
    pub max_count: SettingRef,
    pub actions: SettingRef,
    pub capabilities: SettingRef,
    pub tags_required: SettingRef,
    pub available_tags: SettingRef,
}

/// A rule file as loaded: for `/v1/rules` and diagnostics.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub path: Box<str>,
    pub kind: Box<str>,
    pub sha256: Box<str>,
}

/// Everything the engine needs, immutable once built.
///
/// Built only by the compiler (`rules::compile`), which guarantees what
/// evaluation relies on (and checks: a rule set breaking one of these is
/// never returned); hence the fields are the crate's alone:
///
/// - every index is in range: a rule's `code` in `codes`, its `exceptions`
///   in `exceptions`, an exception's `overrides` in `rules`, a `Cond`'s
///   `text` in `leaves`, a `Field`'s attribute or setting index in its
///   declarations, `default_tenant` in `tenants`, `default_action` in
///   `actions`, every `file` in `files`;
/// - `tenant_data` has one entry per name of `tenants`, in the same order,
///   and each tenant's `channel` and `role` tables are
///   `channels.len() × channel_settings.len()` and
///   `roles.len() × role_settings.len()` slots, row by row;
/// - a channel index fits a bit of the client's channel set (< 64);
/// - every condition is type-checked: an operator meets operands of the
///   types it takes;
/// - `plans` were built from these very rules, last.
///
/// (Evaluation still reads with `get` and answers "not allowed" on an
/// index out of range rather than panic, but with these invariants that
/// never happens.)
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub(crate) revision: Box<str>,
    pub(crate) files: Vec<FileInfo>,
    pub(crate) channels: Names,
    pub(crate) roles: Names,
    pub(crate) actions: Names,
    pub(crate) capabilities: Names,
    pub(crate) client_statuses: Names,
    pub(crate) tenants: Names,
    pub(crate) codes: Vec<Code>,
    pub(crate) code_index: HashMap<Box<str>, u32>,
    pub(crate) client_attrs: Vec<AttrDef>,
    pub(crate) sender_attrs: Vec<AttrDef>,
    pub(crate) default_tenant: u32,
    pub(crate) default_action: u32,
    pub(crate) tenant_settings: Vec<SettingDef>,
    pub(crate) channel_settings: Vec<SettingDef>,
    pub(crate) role_settings: Vec<SettingDef>,
    /// Where each declared default was written: `[tenant | channel | role]`
    /// settings, then per-channel and per-role defaults by key.
    pub(crate) default_origins: HashMap<SettingKey, Origin>,
    pub(crate) send_options: Option<SendOptionsMap>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) exceptions: Vec<Exception>,
    pub(crate) tenant_data: Vec<Tenant>,
    /// Every condition leaf as written, for explanations (`Cond`'s `text` indexes it).
    pub(crate) leaves: Vec<LeafInfo>,
    /// Where names were declared, the defaults before tenants and the
    /// findings authors accepted: for static analysis, never evaluation.
    pub(crate) declared: Declared,
    /// The rules folded per channel (see [`super::plan`]); built last, from
    /// everything above.
    pub(crate) plans: super::plan::Plans,
}

/// What the static analysis of `cansend check` reads beyond what
/// evaluation does: where each code, attribute and setting was declared,
/// the findings the authors accepted on each (`allow_findings:`), and the
/// defaults as they were before any tenant's override.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// By code index.
    pub(crate) codes: Vec<Declaration>,
    /// By attribute index.
    pub(crate) client_attrs: Vec<Declaration>,
    pub(crate) sender_attrs: Vec<Declaration>,
    /// By setting index, per level.
    pub(crate) tenant_settings: Vec<Declaration>,
    pub(crate) channel_settings: Vec<Declaration>,
    pub(crate) role_settings: Vec<Declaration>,
    /// `allow_findings` of each rule and exception, by index.
    pub(crate) rules: Vec<Box<[Box<str>]>>,
    pub(crate) exceptions: Vec<Box<[Box<str>]>>,
    /// `allow_findings` of tenant overrides, by tenant index and setting.
    pub(crate) overrides: HashMap<(u32, SettingKey), Box<[Box<str>]>>,
    /// The defaults before tenants, laid out as in [`Tenant`]: `tenant`
    /// by setting, `channel` as `[channel * n + setting]`, `role` alike.
    pub(crate) tenant_defaults: Box<[Value]>,
    pub(crate) channel_defaults: Box<[Value]>,
    pub(crate) role_defaults: Box<[Value]>,
}

/// Where a name was declared, and the findings accepted about it.
#[derive(Debug, Clone, Default)]
pub struct Declaration {
    pub(crate) origin: Origin,
    pub(crate) allow_findings: Box<[Box<str>]>,
}

impl RuleSet {
    /// The names of one catalog domain.
    pub fn names(&self, d: Domain) -> &Names {
        match d {
            Domain::Channel => &self.channels,
            Domain::Role => &self.roles,
            Domain::Action => &self.actions,
            Domain::Capability => &self.capabilities,
            Domain::ClientStatus => &self.client_statuses,
            Domain::Tenant => &self.tenants,
        }
    }

    /// The path of a file by index (`?` for none).
    pub fn file_path(&self, file: u32) -> &str {
        self.files.get(file as usize).map(|f| &*f.path).unwrap_or("?")
    }

    /// A tenant by name.
    pub fn tenant(&self, name: &str) -> Option<&Tenant> {
        self.tenants.get(name).and_then(|i| self.tenant_data.get(i as usize))
    }
}

impl RuleSet {
    /// A rule set with nothing declared yet, for the compiler to fill.
    pub fn empty(revision: String) -> Self {
        Self {
            revision: revision.into(),
            files: Vec::new(),
            channels: Names::default(),
            roles: Names::default(),
            actions: Names::default(),
            capabilities: Names::default(),
            client_statuses: Names::default(),
            tenants: Names::default(),
            codes: Vec::new(),
            code_index: HashMap::new(),
            client_attrs: Vec::new(),
            sender_attrs: Vec::new(),
            default_tenant: 0,
            default_action: 0,
            tenant_settings: Vec::new(),
            channel_settings: Vec::new(),
            role_settings: Vec::new(),
            default_origins: HashMap::new(),
            send_options: None,
            rules: Vec::new(),
            exceptions: Vec::new(),
            tenant_data: Vec::new(),
            leaves: Vec::new(),
            declared: Declared::default(),
            plans: super::plan::Plans::default(),
        }
    }
}
