//! Previewing a change to a tenant's overrides (`POST
//! /v1/tenants/{tenant}/preview`): the tenant's file as a reload would
//! read it now, with each change edited into its text
//! ([`crate::rules::edit`], comments and order kept), then validated as any
//! candidate file is ([`Live::validate`]: diagnostics, rule tests, the
//! impact on the recent requests). The text is the answer; nothing is
//! written and nothing swapped.

use serde_json::Value as Json;

use crate::rules::{self, edit};

use super::Live;
use super::validate::Validation;

/// One change of a tenant's overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The setting, as the tenant view names it: `settings.NAME`,
    /// `channels.CHANNEL.NAME` or `roles.ROLE.NAME`.
    pub setting: String,
    /// The new value as the file writes it; `None` removes the override.
    pub value: Option<Json>,
    /// The support ticket.
    pub ticket: Option<String>,
    /// The last day (or instant) it holds.
    pub expires: Option<String>,
    /// Why.
    pub note: Option<String>,
}

/// Which part of a change a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Its `setting`.
    Setting,
    /// Its `value`.
    Value,
}

/// A change that cannot be previewed, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    /// No such tenant in the serving revision.
    #[error("no tenant `{tenant}`")]
    UnknownTenant {
        /// The name asked for.
        tenant: String,
        /// A did-you-mean, when one is close.
        hint: Option<String>,
    },
    /// The tenant's file is not among the files a reload would read now.
    #[error("the tenant's file `{0}` is not in the rules directory any more")]
    NoFile(String),
    /// Changes that cannot be made: (index of the change, part, message).
    #[error("{} change(s) cannot be made", .0.len())]
    Changes(Vec<(usize, Part, String)>),
}

/// A previewed change.
#[derive(Debug)]
pub struct Preview {
    /// The tenant.
    pub tenant: String,
    /// Its file, inside the rules directory: the file to commit.
    pub file: String,
    /// The file's text now.
    pub before: String,
    /// The file's text with the changes.
    pub text: String,
    /// The candidate set with that text, validated.
    pub validation: Validation,
}

/// The written kinds of a setting path, and how many segments each has.
const SECTIONS: &[(&str, usize)] = &[("settings", 2), ("channels", 3), ("roles", 3)];

impl Live {
    /// The tenant's file with `changes` edited in, validated (see the
    /// module docs). Reads only.
    pub fn preview(&self, tenant: &str, changes: &[Change]) -> Result<Preview, PreviewError> {
        let serving = self.current();
        let now = crate::now_ms();
        let Some(view) = serving.engine.tenant_view(tenant, now) else {
            let hint = crate::text::hint::did_you_mean(tenant, serving.engine.tenants());
            return Err(PreviewError::UnknownTenant { tenant: tenant.to_owned(), hint });
        };
        let read = rules::read(&self.source);
        let Some(before) = read.files.iter().find(|f| f.path == view.file).map(|f| f.text.clone()) else {
            return Err(PreviewError::NoFile(view.file));
        };
        let known = |path: &[&str]| match path {
            ["settings", name] => view.settings.contains_key(*name),
            ["channels", c, name] => view.channels.get(*c).is_some_and(|m| m.contains_key(*name)),
            ["roles", r, name] => view.roles.get(*r).is_some_and(|m| m.contains_key(*name)),
            _ => false,
        };
        let format = edit::Format::of(&view.file);
        let mut text = before.clone();
        let mut bad = Vec::new();
        for (i, c) in changes.iter().enumerate() {
            let path: Vec<&str> = c.setting.split('.').collect();
            if !known(&path) {
                let mut all: Vec<String> = view.settings.keys().map(|n| format!("settings.{n}")).collect();
                for (c, m) in &view.channels {
                    all.extend(m.keys().map(|n| format!("channels.{c}.{n}")));
                }
                for (r, m) in &view.roles {
                    all.extend(m.keys().map(|n| format!("roles.{r}.{n}")));
                }
                let hint = crate::text::hint::did_you_mean(&c.setting, all.iter().map(String::as_str))
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default();
                let shape = SECTIONS
                    .iter()
                    .map(|(s, n)| if *n == 2 { format!("`{s}.NAME`") } else { format!("`{s}.X.NAME`") })
                    .collect::<Vec<_>>()
                    .join(", ");
                bad.push((i, Part::Setting, format!("`{}` is not a setting of tenant `{tenant}` ({shape}){hint}", c.setting)));
                continue;
            }
            let ov = c.value.clone().map(|value| edit::Override {
                value,
                ticket: c.ticket.clone(),
                expires: c.expires.clone(),
                note: c.note.clone(),
            });
            match edit::set(&text, format, &path, ov.as_ref()) {
                Ok(t) => text = t,
                Err(e @ edit::EditError::Value(_)) => bad.push((i, Part::Value, e.to_string())),
                Err(e) => bad.push((i, Part::Setting, format!("{}: {e}", view.file))),
            }
        }
        if !bad.is_empty() {
            return Err(PreviewError::Changes(bad));
        }
        let validation = self.validate(&[(view.file.clone(), Some(text.clone()))]).map_err(|e| {
            // The path is the loader's own, so never refused; say so if it were.
            PreviewError::Changes(e.into_iter().map(|b| (0, Part::Setting, b.to_string())).collect())
        })?;
        Ok(Preview { tenant: view.tenant, file: view.file, before, text, validation })
    }
}
