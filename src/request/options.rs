//! `POST /v1/send-options`' request: the `tenant`, `sender` and `client`
//! of a can-send request, decoded just as strictly.
//!
//! It is bound through the same binder as a decision — with the first
//! channel of the catalog and an empty message as placeholders, which the
//! options ignore — so names, attributes and limits are checked, and
//! pointers mean the same, in both routes.

use serde::Deserialize;

use super::{CanSendRequest, Client, Message, RequestError, Sender, bind};
use crate::engine::input::Input;
use crate::engine::model::RuleSet;

/// `POST /v1/send-options` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendOptionsRequest {
    /// Tenant (installation); default from the rules (`default`).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Who sends.
    #[serde(deserialize_with = "super::strict::obj")]
    pub sender: Sender,
    /// The instant the dialog is for (RFC 3339); default: the server's now.
    /// Rules about time (hours, the 24-hour window) and override expiry
    /// are judged at it, as in can-send.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<String>,
    /// To whom.
    #[serde(deserialize_with = "super::strict::obj")]
    pub client: Client,
}

impl SendOptionsRequest {
    /// Decode from a JSON value, strictly, every problem with its pointer.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, RequestError> {
        super::json::expect_object(v)?;
        Ok(super::decode_all(v)?)
    }
}

/// Bind a send-options request against `rs` as a can-send request would be.
pub fn bind_options(rs: &RuleSet, r: &SendOptionsRequest, now: i64) -> Result<Input, RequestError> {
    let Some(channel) = rs.channels.names.first() else {
        return Err(RequestError::Unanswerable("the loaded rules declare no channel".into()));
    };
    let placeholder = CanSendRequest {
        tenant: r.tenant.clone(),
        sender: r.sender.clone(),
        action: None,
        at: r.at.clone(),
        client: r.client.clone(),
        channel: channel.to_string(),
        thread: None,
        message: Message { text: None, template: None, attachments: None },
    };
    Ok(bind(rs, &placeholder, now)?)
}
