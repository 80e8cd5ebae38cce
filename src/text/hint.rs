//! "Did you mean …?": every unknown name — a field, a channel, a setting,
//! a key — is answered with the closest known one, or the list of known ones.

/// "did you mean `x`?" — the closest candidate by edit distance, when close enough.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(word, c);
        // Close in shape *and* a few edits away: a brand-new name that
        // merely shares a prefix (`client_banned`) is not a typo of
        // `client_blocked`.
        let edits = strsim::osa_distance(word, c);
        if score > 0.8 && edits <= (word.chars().count() / 4).max(2) && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// "expected one of `a`, `b`, `c`" — for short candidate lists.
pub fn one_of<'a>(candidates: impl IntoIterator<Item = &'a str>) -> String {
    let all: Vec<String> = candidates.into_iter().map(|c| format!("`{c}`")).collect();
    if let Some(first) = all.get(..12).filter(|_| all.len() > 12) {
        format!("one of {} … ({} in all)", first.join(", "), all.len())
    } else {
        format!("one of {}", all.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let hint = did_you_mean("client.blokced", ["client.blocked", "client.channels"]);
        assert_eq!(hint.as_deref(), Some("did you mean `client.blocked`?"));
        assert_eq!(did_you_mean("zzz", ["client.blocked"]), None);
        assert_eq!(did_you_mean("cdoe", ["code", "rule"]).as_deref(), Some("did you mean `code`?"));
        assert_eq!(did_you_mean("client_banned", ["client_blocked"]), None);
    }
}
