//! The "Record" card of an asset page: tag, state, place, holder, money, warranty,
//! custom fields, audits, and the links to its QR label and public page.

use crate::http::assets::FullAsset;

/// Money in cents as "1,234.50".
pub fn money(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{grouped}.{:02}", (cents % 100).abs())
}

pub struct RecordView {
    pub id: i64,
    pub tag: String,
    pub state: String,
    pub state_kind: String,
    pub location: String,
    pub holder: String,
    pub waiting_acceptance: bool,
    pub criticality: String,
    /// (label, value) rows: purchase, value, warranty, audits, custom fields.
    pub rows: Vec<(String, String)>,
    pub public_path: String,
    pub notes: String,
}

/// The card's content; `holder` names whoever the asset is checked out to.
pub fn record_view(f: &FullAsset, holder: String, field_labels: &[(String, String)]) -> RecordView {
    let r = &f.record;
    let mut rows = Vec::new();
    let mut push = |k: &str, v: String| {
        if !v.is_empty() {
            rows.push((k.to_owned(), v));
        }
    };
    push("Purchased", r.purchase_date.clone().unwrap_or_default());
    push("Cost", r.purchase_cost_cents.map(money).unwrap_or_default());
    push(
        "Value today",
        f.book_value_cents.map(money).unwrap_or_default(),
    );
    push(
        "Expected life",
        r.expected_life_months
            .map(|m| format!("{m} months"))
            .unwrap_or_default(),
    );
    push("Supplier", r.supplier.clone());
    push("Order", r.order_number.clone());
    push("Warranty until", r.warranty_end.clone().unwrap_or_default());
    push("Last audit", crate::ui::format::datetime(r.last_audit_at));
    push(
        "Audit due",
        r.audit_due_at
            .map(|t| crate::ui::format::datetime(Some(t)))
            .unwrap_or_default(),
    );
    if let Some(fields) = r.custom_fields.as_object() {
        for (key, v) in fields {
            let label = field_labels
                .iter()
                .find(|(k, _)| k == key)
                .map_or(key.as_str(), |(_, l)| l.as_str());
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
                other => other.to_string().trim_end_matches(".0").to_owned(),
            };
            push(label, text);
        }
    }
    RecordView {
        id: f.asset.summary.id,
        tag: r.asset_tag.clone().unwrap_or_default(),
        state: r.state.clone().unwrap_or_else(|| "no state".into()),
        state_kind: r.state_kind.clone().unwrap_or_default(),
        location: f
            .location
            .as_ref()
            .map(|l| l.path.clone())
            .unwrap_or_default(),
        waiting_acceptance: f.checkout.as_ref().is_some_and(|c| {
            c.target_kind == "user" && c.accepted_at.is_none() && c.declined_at.is_none()
        }),
        holder,
        criticality: r.criticality.clone(),
        rows,
        public_path: f.public_path.clone().unwrap_or_default(),
        notes: r.notes.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::money;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(0), "0.00");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(129_950), "1,299.50");
        assert_eq!(money(120_000_000), "1,200,000.00");
    }
}
