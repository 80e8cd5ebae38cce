//! A request as the engine reads it: names interned against one rule set,
//! defaults filled, derived facts (extension, total size) computed once.
//! Built by `request::bind`; the engine never sees JSON.

use super::value::Value;

/// A request bound against one rule set: what the engine reads.
#[derive(Debug, Clone)]
pub struct Input {
    /// Index of the tenant.
    pub tenant: u32,
    /// Index of the action.
    pub action: u32,
    /// Index of the target channel.
    pub channel: u32,
    /// The instant of sending, ms since the epoch (the request's `at`, or now).
    pub at: i64,
    /// Index of the sender's role.
    pub sender_role: u32,
    /// The sender's id, as given.
    pub sender_id: Option<Box<str>>,
    /// The sender's status (`READY`, …), as given.
    pub sender_status: Option<Box<str>>,
    /// By declared attribute index; `None` when the request left it out.
    pub sender_attrs: Box<[Option<Value>]>,
    /// Index of the client status.
    pub client_status: u32,
    /// The client is blocked.
    pub client_blocked: bool,
    /// The client has an active thread.
    pub client_active_thread: bool,
    /// Bit set of known channels; unknown ones were dropped.
    pub client_channels: u64,
    /// The client's email.
    pub client_email: Option<Box<str>>,
    /// The client's phone.
    pub client_phone: Option<Box<str>>,
    /// The client's external id (web chat, mobile app).
    pub client_external_id: Option<Box<str>>,
    /// The client's last inbound message, ms since the epoch.
    pub client_last_inbound_at: Option<i64>,
    /// By declared attribute index; `None` when the request left it out.
    pub client_attrs: Box<[Option<Value>]>,
    /// The thread's tags, as given.
    pub thread_tags: Box<[Box<str>]>,
    /// The message text.
    pub text: Option<Box<str>>,
    /// The message template.
    pub template: Option<Template>,
    /// The attachments, in order.
    pub attachments: Box<[Attachment]>,
    /// Sum of attachment sizes, saturating.
    pub total_size: i64,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub name: Box<str>,
    pub header: Option<Box<str>>,
    pub footer: Option<Box<str>>,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: Box<str>,
    /// Lower-cased text after the last dot; `None` when there is none.
    pub extension: Option<Box<str>>,
    pub size: i64,
}

/// The extension of a file name as the rules see it: the text after the
/// last dot, lower-cased; none for `README`, `.bashrc` or `name.`.
pub fn extension_of(name: &str) -> Option<Box<str>> {
    // Byte searches: `/`, `\\` and `.` are ASCII, so the positions found
    // are character boundaries. (Every attachment of every request comes
    // through here.)
    let bytes = name.as_bytes();
    let base = bytes.iter().rposition(|b| *b == b'/' || *b == b'\\').map_or(0, |i| i + 1);
    let dot = bytes.iter().rposition(|b| *b == b'.').filter(|d| *d > base)?;
    let ext = name.get(dot + 1..).filter(|e| !e.is_empty())?;
    Some(if ext.is_ascii() { ext.to_ascii_lowercase() } else { ext.to_lowercase() }.into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::extension_of;

    #[test]
    fn extensions() {
        assert_eq!(extension_of("SCAN.PDF").as_deref(), Some("pdf"));
        assert_eq!(extension_of("a.pdf.exe").as_deref(), Some("exe"));
        assert_eq!(extension_of("README"), None);
        assert_eq!(extension_of(".bashrc"), None);
        assert_eq!(extension_of("name."), None);
        assert_eq!(extension_of("dir.v2/file"), None);
        assert_eq!(extension_of("dir\\.hidden"), None);
        assert_eq!(extension_of("a/b.TXT"), Some("txt".into()));
        assert_eq!(extension_of("ФОТО.JPG").as_deref(), Some("jpg"));
        assert_eq!(extension_of("файл.ДОК").as_deref(), Some("док"));
    }
}
