//! The Registry pages' per-service tables, rendered from the job API
//! registry so the docs can never list a service the provider does not
//! serve, or miss one it does. `tests/registry_docs.rs` fills each
//! `<!-- table: NAME -->` region of a page with [`render`] and fails on drift.

use crate::jobs::{apis, JobApi};

/// The table called `name`, or `None` if there is no such table.
pub fn render(name: &str) -> Option<String> {
    match name {
        "services" => Some(services()),
        "fields" => Some(fields()),
        "endpoints" => Some(endpoints()),
        _ => None,
    }
}

/// Every table name, for tests that want to render them all.
pub const TABLES: [&str; 3] = ["services", "fields", "endpoints"];

fn codes(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn or_dash(text: &str) -> &str {
    if text.is_empty() {
        "—"
    } else {
        text
    }
}

/// Markdown table cells must not break the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn table(head: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = format!("| {} |\n", head.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(head.len())));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// What to write in `service`, what is requested, and how each status reads.
fn services() -> String {
    table(
        &[
            "`service`",
            "API",
            "request",
            "done",
            "failed",
            "still running",
            "default `poll_interval`",
            "typical jobs",
        ],
        apis::ALL.iter().map(|a: &&JobApi| {
            vec![
                format!("`{}`", a.name),
                a.display_name.to_string(),
                format!("`{}`", a.request.display()),
                codes(a.statuses.done),
                codes(a.statuses.failed),
                codes(a.statuses.pending),
                format!("`{}`", crate::duration::format_compact(a.poll_interval)),
                a.typical_jobs.to_string(),
            ]
        }),
    )
}

/// Which API field fills each computed attribute.
fn fields() -> String {
    table(
        &[
            "`service`",
            "`reason`",
            "`error_code`",
            "`resource_id` / `resource_name`",
            "`sub_jobs`",
            "progress (timeouts, logs)",
        ],
        apis::ALL.iter().map(|a| {
            let f = &a.fields;
            vec![
                format!("`{}`", a.name),
                f.reason.to_string(),
                or_dash(f.error_code).to_string(),
                or_dash(f.resource).to_string(),
                or_dash(f.sub_jobs).to_string(),
                if f.progress.is_empty() {
                    if f.sub_jobs.is_empty() {
                        "—".to_string()
                    } else {
                        "sub-jobs done".to_string()
                    }
                } else {
                    f.progress.to_string()
                },
            ]
        }),
    )
}

/// The `endpoints` keys, their default hosts and the services on them.
fn endpoints() -> String {
    let mut rows: Vec<Vec<String>> = apis::endpoint_keys()
        .into_iter()
        .map(|(key, label)| {
            let services: Vec<String> = apis::ALL
                .iter()
                .filter(|a| a.endpoint_key == key)
                .map(|a| format!("`{}`", a.name))
                .collect();
            vec![
                format!("`{key}`"),
                format!("`https://{label}.{{region}}.{{cloud}}`"),
                services.join(", "),
            ]
        })
        .collect();
    rows.push(vec![
        "`iam`".to_string(),
        "`https://iam.{region}.{cloud}` (or `auth_url`)".to_string(),
        "project id discovery".to_string(),
    ]);
    table(&["key", "default", "used by"], rows.into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_row_per_service_or_key() {
        let services = render("services").unwrap();
        let fields = render("fields").unwrap();
        for a in apis::ALL {
            let name = format!("| `{}` |", a.name);
            assert!(services.contains(&name), "{}", a.name);
            assert!(fields.contains(&name), "{}", a.name);
            assert!(services.contains(&a.request.display()), "{}", a.name);
            assert!(services.contains(a.typical_jobs), "{}", a.name);
        }
        let endpoints = render("endpoints").unwrap();
        for (key, label) in apis::endpoint_keys() {
            assert!(
                endpoints.contains(&format!("| `{key}` | `https://{label}.")),
                "{key}"
            );
        }
        assert!(endpoints.contains("| `iam` |"));
        assert_eq!(render("nope"), None);
        for t in TABLES {
            let text = render(t).unwrap();
            let widths: Vec<usize> = text
                .lines()
                .filter(|l| !l.starts_with("|---"))
                .map(|l| l.matches(" | ").count())
                .collect();
            assert!(
                widths.windows(2).all(|w| w[0] == w[1]),
                "{t}: ragged rows\n{text}"
            );
        }
    }

    #[test]
    fn cells_cannot_break_a_row() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
