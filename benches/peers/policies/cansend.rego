# cansend's shipped rules (rules/eligibility.yaml, rules/message.yaml) as
# Rego. `data.cansend.deny` is the set of violation codes; empty = allowed.
#
# input: the can-send request body, as sent (docs/api.md), optional fields
#        absent or null.
# data:  the effective tenant settings (policies/settings.json, layered):
#        data.tenants[t].{tags_required, available_tags, channels[c].{connected,
#        attachment_formats, max_file_size, max_total_size, max_attachments}},
#        data.roles[r].actions.
package cansend

import rego.v1

# Optional fields: absent and null mean the default.
opt(obj, key, def) := object.get(obj, key, def) if object.get(obj, key, null) != null

opt(obj, key, def) := def if object.get(obj, key, null) == null

# A string that is absent, null, empty or only white space is blank.
present(obj, key) if trim_space(opt(obj, key, "")) != ""

tenant := opt(input, "tenant", "default")

action := opt(input, "action", "send")

settings := data.tenants[tenant]

channel := input.channel

ch := settings.channels[channel]

client := input.client

message := input.message

attachments := opt(message, "attachments", [])

existing if client.status == "existing"

new_client if client.status == "new"

# §1.4 email-exception: overrides no-active-thread and existing-client-channel-used.
email_exception if {
	channel == "email"
	present(client, "email")
	ch.connected
}

# client-not-blocked (§1.2)
deny contains "client_blocked" if opt(client, "blocked", false)

# no-active-thread (§1.3)
deny contains "active_thread" if {
	opt(client, "active_thread", false)
	not email_exception
}

# existing-client-channel-used (§1.1); unknown channel names in the list are inert
deny contains "channel_not_used_by_client" if {
	existing
	not channel in opt(client, "channels", [])
	not email_exception
}

# channel-connected (§1.6)
deny contains "channel_not_connected" if not ch.connected

# new-client-channel (§1.5)
deny contains "channel_not_available_for_new_client" if {
	new_client
	not channel in {"whatsapp", "viber", "email", "webchat", "mobile_app"}
}

# new-client-phone, new-client-email, new-client-external-id (§1.5). (One
# rule over {channel: field} reads better, but regorus 0.14.1's RVM gets
# `field := ids[channel]; not present(client, field)` wrong when the lookup
# is undefined: see examples/rvm_undefined_lookup.rs.)
deny contains "missing_client_identifier" if {
	new_client
	channel in {"whatsapp", "viber"}
	not present(client, "phone")
}

deny contains "missing_client_identifier" if {
	new_client
	channel == "email"
	not present(client, "email")
}

deny contains "missing_client_identifier" if {
	new_client
	channel in {"webchat", "mobile_app"}
	not present(client, "external_id")
}

# tags-required (§1.7)
deny contains "tags_required" if {
	settings.tags_required
	not has_available_tag
}

has_available_tag if {
	some t in opt(opt(input, "thread", {}), "tags", [])
	t in settings.available_tags
}

# action-allowed-for-role (§1.11)
deny contains "action_not_allowed" if not action in data.roles[input.sender.role].actions

# message-not-empty (§1.8)
deny contains "empty_message" if {
	not present(message, "text")
	opt(message, "template", null) == null
	count(attachments) == 0
}

# template-channel (§1.8)
deny contains "template_not_supported" if {
	opt(message, "template", null) != null
	not channel in {"whatsapp", "viber"}
}

# attachment-count (§1.9)
deny contains "too_many_attachments" if count(attachments) > ch.max_attachments

# attachment-format (§1.10), per file; a name without an extension has no allowed format
deny contains "attachment_format_not_allowed" if {
	some a in attachments
	not extension(a.name) in ch.attachment_formats
}

# attachment-size (§1.10), per file; equal to the limit is within it
deny contains "attachment_too_large" if {
	some a in attachments
	a.size > ch.max_file_size
}

# attachments-total-size (§1.10)
deny contains "attachments_total_too_large" if sum([a.size | some a in attachments]) > ch.max_total_size

# The extension of a file name, lower-cased: after the last dot of the last
# path segment, when neither side of that dot is empty (`SCAN.PDF` → pdf,
# `a.pdf.exe` → exe, `README`, `.bashrc`, `name.` → undefined).
extension(name) := lower(parts[n - 1]) if {
	segments := split(replace(name, "\\", "/"), "/")
	parts := split(segments[count(segments) - 1], ".")
	n := count(parts)
	n > 1
	parts[n - 1] != ""
	concat(".", array.slice(parts, 0, n - 1)) != ""
}
