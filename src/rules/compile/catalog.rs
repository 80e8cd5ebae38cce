//! The catalog: the vocabulary every other file refers to — channels,
//! roles, actions, UI capabilities, client statuses, violation codes and
//! custom attributes. Several catalog files merge; a name declared twice is
//! an error. Tenant names are collected here too (one per tenant file), so
//! conditions can name tenants.

use crate::engine::model::{AttrDef, Code, Names};
use crate::engine::value::{Domain, Ty};
use crate::rules::syntax::{CatalogFile, Entry};
use crate::text::hint::{did_you_mean, one_of};
use crate::text::pointer::join;

use super::Builder;

/// Members of a small domain are bits of one word.
const MAX_MEMBERS: usize = 64;

pub(super) fn compile(b: &mut Builder) {
    let mut defaults: Option<(usize, String, String)> = None;
    for fi in b.files_of("catalog") {
        let Some(cat) = b.typed::<CatalogFile>(fi) else { continue };
        declare(b, fi, "/channels", &cat.channels, Domain::Channel);
        declare(b, fi, "/roles", &cat.roles, Domain::Role);
        declare(b, fi, "/actions", &cat.actions, Domain::Action);
        declare(b, fi, "/capabilities", &cat.capabilities, Domain::Capability);
        declare(b, fi, "/client_statuses", &cat.client_statuses, Domain::ClientStatus);
        for (name, code) in &cat.codes {
            let ptr = join("/codes", name);
            if b.rs.code_index.contains_key(name.as_str()) {
                b.error(fi, &ptr, None, format!("code `{name}` is declared twice"), None);
                continue;
            }
            let i = b.rs.codes.len() as u32;
            let declared = b.declaration(fi, &ptr, &code.allow_findings);
            b.rs.declared.codes.push(declared);
            b.rs.codes.push(Code { name: name.as_str().into(), message: code.message.as_str().into() });
            b.rs.code_index.insert(name.as_str().into(), i);
        }
        for (who, attrs, list) in [("client", &cat.attributes.client, 0), ("sender", &cat.attributes.sender, 1)] {
            for (name, decl) in attrs {
                let ptr = join(&format!("/attributes/{who}"), name);
                let Some(ty) = Ty::parse(&decl.ty)
                    .filter(|t| matches!(t, Ty::Bool | Ty::Int | Ty::Size | Ty::Str | Ty::Time | Ty::StrSet | Ty::Duration))
                else {
                    b.error_value(
                        fi,
                        &format!("{ptr}/type"),
                        None,
                        format!("attribute type `{}` is not supported", decl.ty),
                        Some("one of `bool`, `int`, `size`, `duration`, `string`, `timestamp`, `set<string>`".into()),
                    );
                    continue;
                };
                let target = if list == 0 { &mut b.rs.client_attrs } else { &mut b.rs.sender_attrs };
                if target.iter().any(|a| &*a.name == name) {
                    b.error(fi, &ptr, None, format!("{who} attribute `{name}` is declared twice"), None);
                    continue;
                }
                target.push(AttrDef { name: name.as_str().into(), ty });
                let declared = b.declaration(fi, &ptr, &decl.allow_findings);
                if list == 0 { b.rs.declared.client_attrs.push(declared) } else { b.rs.declared.sender_attrs.push(declared) }
            }
        }
        if let Some(d) = cat.request_defaults {
            if let Some((other, ..)) = &defaults {
                let other = b.path(*other).to_owned();
                b.error(fi, "/request_defaults", None, "`request_defaults` is declared twice", Some(format!("it is also in {other}")));
            } else {
                defaults = Some((fi, d.tenant, d.action));
            }
        }
    }
    // Tenants are named by their files.
    let mut tenant_files: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for fi in b.files_of("tenant") {
        let Some(name) = b.files.get(fi).and_then(|f| f.value.get("tenant")).and_then(|t| t.as_str()).map(str::to_owned) else { continue };
        if let Some(first) = tenant_files.get(&name) {
            let (first, this) = (b.path(*first).to_owned(), b.path(fi).to_owned());
            let hint = Some(format!("one file per tenant: merge {this} into {first}, or rename the tenant in one of them"));
            b.error_value(fi, "/tenant", None, format!("tenant `{name}` is defined by two files: {first} and {this}"), hint);
            continue;
        }
        tenant_files.insert(name.clone(), fi);
        b.rs.tenants.push(&name, None);
    }
    for (domain, label) in
        [(Domain::Channel, "channels"), (Domain::Role, "roles"), (Domain::Action, "actions"), (Domain::ClientStatus, "client_statuses")]
    {
        if b.names(domain).is_empty() {
            let file = b.files_of("catalog").first().copied();
            match file {
                Some(fi) => {
                    b.error(fi, "", None, format!("the catalog declares no {label}"), Some(format!("add `{label}:` to a catalog file")))
                }
                // The directory itself could not be read: that error says it all.
                None if b.diags.iter().any(|d| d.is_error() && d.file == ".") => {}
                None => b.diags.push(crate::rules::diag::Diagnostic::error(
                    ".",
                    crate::rules::diag::Pos::UNKNOWN,
                    "no catalog file (`kind: catalog`) in the rule set",
                )),
            }
            return;
        }
    }
    match defaults {
        None => {
            let fi = b.files_of("catalog").first().copied().unwrap_or(0);
            b.error(
                fi,
                "",
                None,
                "no `request_defaults` (the tenant and action a request gets when it names none)",
                Some("add `request_defaults: { tenant: default, action: send }` to the catalog".into()),
            );
        }
        Some((fi, tenant, action)) => {
            match b.rs.tenants.get(&tenant) {
                Some(t) => b.rs.default_tenant = t,
                // Its file may be one that did not parse: that error says it.
                None if b.partial => {}
                None => {
                    let hint = did_you_mean(&tenant, b.rs.tenants.names.iter().map(|n| &**n))
                        .or_else(|| Some("every tenant needs a file with `kind: tenant`".into()));
                    b.error_value(fi, "/request_defaults/tenant", None, format!("default tenant `{tenant}` has no tenant file"), hint);
                }
            }
            match b.rs.actions.get(&action) {
                Some(a) => b.rs.default_action = a,
                None => {
                    let hint = did_you_mean(&action, b.rs.actions.names.iter().map(|n| &**n))
                        .or_else(|| Some(one_of(b.rs.actions.names.iter().map(|n| &**n))));
                    b.error_value(fi, "/request_defaults/action", None, format!("unknown action `{action}`"), hint);
                }
            }
        }
    }
}

fn declare(b: &mut Builder, fi: usize, base: &str, entries: &indexmap::IndexMap<String, Entry>, d: Domain) {
    for (name, entry) in entries {
        let ptr = join(base, name);
        let table: &Names = b.names(d);
        if table.get(name).is_some() {
            b.error(fi, &ptr, None, format!("{} `{name}` is declared twice", d.name()), None);
            continue;
        }
        if table.len() >= MAX_MEMBERS {
            b.error(fi, &ptr, None, format!("more than {MAX_MEMBERS} {}s", d.name()), None);
            continue;
        }
        let title = entry.title.as_deref();
        match d {
            Domain::Channel => b.rs.channels.push(name, title),
            Domain::Role => b.rs.roles.push(name, title),
            Domain::Action => b.rs.actions.push(name, title),
            Domain::Capability => b.rs.capabilities.push(name, title),
            Domain::ClientStatus => b.rs.client_statuses.push(name, title),
            Domain::Tenant => b.rs.tenants.push(name, title),
        };
    }
}
