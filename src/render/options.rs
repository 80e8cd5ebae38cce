//! `POST /v1/send-options`' answer: what the send dialog may offer, with
//! names and limits in bytes.

use serde::Serialize;

use super::decision::{Violation, violations};
use super::value::{names, strings};
use crate::engine::input::Input;
use crate::engine::model::RuleSet;
use crate::engine::options::SendOptions;
use crate::engine::value::Domain;

/// The attachment limits of one channel.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AttachmentLimits {
    /// Allowed extensions, lower case, without dots.
    pub formats: Vec<String>,
    /// Bytes per file.
    pub max_file_size: i64,
    /// Bytes for all attachments of one message.
    pub max_total_size: i64,
    /// Attachments per message.
    pub max_count: i64,
}

/// What the send dialog may offer over one channel.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ChannelOptions<'e> {
    /// The channel's name.
    pub channel: &'e str,
    /// Its title in the catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'e str>,
    /// Whether this sender may write to this client over this channel.
    pub sendable: bool,
    /// Why not, when not sendable.
    pub violations: Vec<Violation<'e>>,
    /// Message formats the channel takes here: `text`, `attachments`, `template`.
    pub formats: Vec<&'static str>,
    /// The channel's attachment limits for this tenant.
    pub attachment_limits: Option<AttachmentLimits>,
}

/// The tag policy of the tenant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct TagOptions {
    /// The thread must carry one of the available tags.
    pub required: bool,
    /// The tenant's tags.
    pub available: Vec<String>,
}

/// The answer of `POST /v1/send-options`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SendOptionsBody<'e> {
    /// The tenant.
    pub tenant: &'e str,
    /// The sender's role.
    pub role: &'e str,
    /// Actions the sender's role may take on the last step of the dialog.
    pub actions: Vec<String>,
    /// UI capabilities of the sender's role (e.g. `go_to_thread`).
    pub capabilities: Vec<String>,
    /// Whether tags are required, and which are available.
    pub tags: TagOptions,
    /// Every channel of the catalog.
    pub channels: Vec<ChannelOptions<'e>>,
    /// The revision that answered.
    pub revision: &'e str,
}

/// The options computed for `input` as the body callers receive.
pub fn send_options<'e>(rs: &'e RuleSet, input: &Input, o: &SendOptions<'_>) -> SendOptionsBody<'e> {
    let channels = o
        .channels
        .iter()
        .map(|c| ChannelOptions {
            channel: rs.channels.name(c.channel),
            title: rs.channels.titles.get(c.channel as usize).and_then(|t| t.as_deref()),
            sendable: c.sendable,
            violations: violations(rs, input.tenant, &c.violations),
            formats: c.formats.iter().map(|f| f.name()).collect(),
            attachment_limits: c.limits.map(|l| AttachmentLimits {
                formats: strings(l.formats),
                max_file_size: l.max_file_size,
                max_total_size: l.max_total_size,
                max_count: l.max_count,
            }),
        })
        .collect();
    SendOptionsBody {
        tenant: rs.tenants.name(input.tenant),
        role: rs.roles.name(input.sender_role),
        actions: names(rs, Domain::Action, o.actions),
        capabilities: names(rs, Domain::Capability, o.capabilities),
        tags: TagOptions { required: o.tags_required, available: strings(o.available_tags) },
        channels,
        revision: &rs.revision,
    }
}
