//! Markdown for the Terraform Registry, written from the very schema the
//! provider serves, so the argument and attribute lists on the Registry page
//! can never say something Terraform would not accept. The layout follows
//! what HashiCorp's `tfplugindocs` produces (Required / Optional / Read-Only,
//! then one "Nested Schema" section per block or object), because that is
//! what users of every other provider are used to reading.

use serde_json::Value as Json;

use super::tfplugin6::schema::object::NestingMode as object_nesting;
use super::tfplugin6::schema::{nested_block::NestingMode, Attribute, Block, Object};

/// The `## Schema` section of a page: the block's attributes and nested
/// blocks, grouped the way `tfplugindocs` groups them.
pub fn render(block: &Block) -> String {
    let mut out = String::from("## Schema\n");
    let mut nested = Vec::new();
    write_groups(&mut out, block, "", "###", &mut nested);
    // Breadth-first, so every anchor a list points at is defined below it.
    let mut i = 0;
    while i < nested.len() {
        let section = nested[i].clone();
        out.push_str(&format!(
            "\n<a id=\"{}\"></a>\n### Nested Schema for `{}`\n",
            section.anchor, section.path
        ));
        match &section.body {
            NestedBody::Block(b) => {
                write_groups(&mut out, b, &section.path, "", &mut nested);
            }
            NestedBody::Object { fields, group } => {
                out.push_str(&format!("\n{group}:\n\n"));
                for (name, ty) in fields {
                    out.push_str(&format!("- `{name}` ({})\n", type_name(ty)));
                }
            }
        }
        i += 1;
    }
    out
}

/// The `## Schema` section of an action's page. An action's arguments are
/// written inside its `config` block, and it has no results to read back,
/// so the section says so before the usual groups.
pub fn render_action(block: &Block) -> String {
    let groups = render(block);
    let body = groups.strip_prefix("## Schema\n").unwrap_or(&groups);
    format!(
        "## Schema\n\nThese arguments go in the action's `config` block. An action keeps no state, so it has no attributes to read back: its outcome is its progress messages and, when it fails, its error.\n{body}"
    )
}

/// Which attributes belong to a group such as "Required".
type AttributeFilter = fn(&Attribute) -> bool;

#[derive(Clone)]
enum NestedBody {
    Block(Block),
    /// An attribute of object type (or a collection of objects): its fields
    /// have types but no descriptions of their own.
    Object {
        fields: Vec<(String, Json)>,
        group: &'static str,
    },
}

#[derive(Clone)]
struct Nested {
    path: String,
    anchor: String,
    body: NestedBody,
}

fn write_groups(
    out: &mut String,
    block: &Block,
    parent: &str,
    heading: &str,
    nested: &mut Vec<Nested>,
) {
    let groups: [(&str, AttributeFilter); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional),
    ];
    for (group, wanted) in groups {
        let mut lines = Vec::new();
        let mut attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| wanted(a)).collect();
        attrs.sort_by(|a, b| a.name.cmp(&b.name));
        for a in attrs {
            lines.push(attribute_line(a, parent, group, nested));
        }
        // Nested blocks are never computed-only; they belong where their
        // minimum says.
        let mut blocks: Vec<_> = block
            .block_types
            .iter()
            .filter(|b| match group {
                "Required" => b.min_items > 0,
                "Optional" => b.min_items == 0,
                _ => false,
            })
            .collect();
        blocks.sort_by(|a, b| a.type_name.cmp(&b.type_name));
        for b in blocks {
            let path = join(parent, &b.type_name);
            let anchor = format!("nestedblock--{}", path.replace('.', "--"));
            let inner = b.block.clone().unwrap_or_default();
            lines.push(format!(
                "- `{}` (Block{}){} (see [below for nested schema](#{anchor}))",
                b.type_name,
                nesting_suffix(b.nesting, b.max_items),
                description_suffix(&inner.description),
            ));
            nested.push(Nested {
                path,
                anchor,
                body: NestedBody::Block(inner),
            });
        }
        if lines.is_empty() {
            continue;
        }
        if heading.is_empty() {
            out.push_str(&format!("\n{group}:\n\n"));
        } else {
            out.push_str(&format!("\n{heading} {group}\n\n"));
        }
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
}

fn attribute_line(
    a: &Attribute,
    parent: &str,
    group: &'static str,
    nested: &mut Vec<Nested>,
) -> String {
    if let Some(object) = &a.nested_type {
        return nested_attribute_line(a, object, parent, nested);
    }
    let ty: Json = serde_json::from_slice(&a.r#type).unwrap_or(Json::Null);
    let mut line = format!("- `{}` ({}", a.name, type_name(&ty));
    if a.sensitive {
        line.push_str(", Sensitive");
    }
    if a.deprecated {
        line.push_str(", Deprecated");
    }
    line.push(')');
    line.push_str(&description_suffix(&a.description));
    if let Some(fields) = object_fields(&ty) {
        let path = join(parent, &a.name);
        let anchor = format!("nestedatt--{}", path.replace('.', "--"));
        line.push_str(&format!(" (see [below for nested schema](#{anchor}))"));
        nested.push(Nested {
            path,
            anchor,
            body: NestedBody::Object { fields, group },
        });
    }
    line
}

/// A nested attribute, as `tfplugindocs` shows one: "(Attributes List)",
/// then a section of its own with each field's description.
fn nested_attribute_line(
    a: &Attribute,
    object: &Object,
    parent: &str,
    nested: &mut Vec<Nested>,
) -> String {
    let kind = match object_nesting::try_from(object.nesting) {
        Ok(object_nesting::List) => "Attributes List",
        Ok(object_nesting::Set) => "Attributes Set",
        Ok(object_nesting::Map) => "Attributes Map",
        _ => "Attributes",
    };
    let mut line = format!("- `{}` ({kind}", a.name);
    if a.sensitive {
        line.push_str(", Sensitive");
    }
    if a.deprecated {
        line.push_str(", Deprecated");
    }
    line.push(')');
    line.push_str(&description_suffix(&a.description));
    let path = join(parent, &a.name);
    let anchor = format!("nestedatt--{}", path.replace('.', "--"));
    line.push_str(&format!(" (see [below for nested schema](#{anchor}))"));
    nested.push(Nested {
        path,
        anchor,
        body: NestedBody::Block(Block {
            attributes: object.attributes.clone(),
            ..Default::default()
        }),
    });
    line
}

fn description_suffix(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(" {text}")
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

fn nesting_suffix(mode: i32, max_items: i64) -> String {
    match NestingMode::try_from(mode) {
        Ok(NestingMode::List) if max_items == 1 => ", Max: 1".to_string(),
        Ok(NestingMode::List) => ", List".to_string(),
        Ok(NestingMode::Set) => ", Set".to_string(),
        Ok(NestingMode::Map) => ", Map".to_string(),
        _ => String::new(),
    }
}

/// The fields of an object, or of the objects in a list, set or map.
fn object_fields(ty: &Json) -> Option<Vec<(String, Json)>> {
    match ty {
        Json::Array(parts) => match (parts.first().and_then(Json::as_str), parts.get(1)) {
            (Some("object"), Some(Json::Object(fields))) => {
                Some(fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            (Some("list" | "set" | "map"), Some(inner)) => object_fields(inner),
            _ => None,
        },
        _ => None,
    }
}

/// cty's JSON type encoding in the words the Registry uses.
pub fn type_name(ty: &Json) -> String {
    match ty {
        Json::String(s) => match s.as_str() {
            "string" => "String".into(),
            "number" => "Number".into(),
            "bool" => "Boolean".into(),
            "dynamic" => "Dynamic".into(),
            other => other.to_string(),
        },
        Json::Array(parts) => match (parts.first().and_then(Json::as_str), parts.get(1)) {
            (Some("list"), Some(inner)) => format!("List of {}", type_name(inner)),
            (Some("set"), Some(inner)) => format!("Set of {}", type_name(inner)),
            (Some("map"), Some(inner)) => format!("Map of {}", type_name(inner)),
            (Some("object"), _) => "Object".into(),
            (Some("tuple"), _) => "Tuple".into(),
            _ => "Unknown".into(),
        },
        _ => "Unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::schema::{Attribute as A, Block as B, NestedBlock, Nesting, Type};

    fn sample() -> Block {
        B::new()
            .attribute(A::new("name", &Type::String).required().description("Who."))
            .attribute(A::new("secret", &Type::String).optional().sensitive())
            .attribute(A::new("count", &Type::Number).optional().computed())
            .attribute(
                A::new(
                    "items",
                    &Type::list(Type::object([("id", Type::String), ("ok", Type::Bool)])),
                )
                .computed()
                .description("Each item."),
            )
            .nested(NestedBlock::new(
                "timeouts",
                Nesting::Single,
                B::new().attribute(A::new("read", &Type::String).optional()),
            ))
            .build()
    }

    #[test]
    fn an_action_page_says_its_arguments_go_in_config() {
        let block = B::new()
            .attribute(
                A::new("job_id", &Type::String)
                    .required()
                    .description("Which."),
            )
            .attribute(A::new("timeout", &Type::String).optional())
            .build();
        let md = render_action(&block);
        assert!(
            md.starts_with("## Schema\n\nThese arguments go in the action's `config` block."),
            "{md}"
        );
        // The groups follow, once, as on any other page.
        assert_eq!(md.matches("## Schema").count(), 1, "{md}");
        assert!(md.ends_with(&render(&block)["## Schema\n".len()..]), "{md}");
        assert!(
            md.contains("### Required\n\n- `job_id` (String) Which.\n"),
            "{md}"
        );
        assert!(
            md.contains("### Optional\n\n- `timeout` (String)\n"),
            "{md}"
        );
    }

    #[test]
    fn groups_types_flags_and_nested_sections() {
        let md = render(&sample());
        let expected = "## Schema

### Required

- `name` (String) Who.

### Optional

- `count` (Number)
- `secret` (String, Sensitive)
- `timeouts` (Block) (see [below for nested schema](#nestedblock--timeouts))

### Read-Only

- `items` (List of Object) Each item. (see [below for nested schema](#nestedatt--items))

<a id=\"nestedblock--timeouts\"></a>
### Nested Schema for `timeouts`

Optional:

- `read` (String)

<a id=\"nestedatt--items\"></a>
### Nested Schema for `items`

Read-Only:

- `id` (String)
- `ok` (Boolean)
";
        assert_eq!(md, expected);
    }

    #[test]
    fn nested_attributes_get_a_section_with_each_field_described() {
        use crate::protocol::schema::ObjectNesting;
        let block = B::new()
            .attribute(
                A::nested(
                    "sub_jobs",
                    ObjectNesting::List,
                    vec![
                        A::new("id", &Type::String)
                            .computed()
                            .description("Its id."),
                        A::new("type", &Type::String)
                            .computed()
                            .description("Its type."),
                    ],
                )
                .computed()
                .description("Each sub-job."),
            )
            .build();
        let md = render(&block);
        let expected = "## Schema

### Read-Only

- `sub_jobs` (Attributes List) Each sub-job. (see [below for nested schema](#nestedatt--sub_jobs))

<a id=\"nestedatt--sub_jobs\"></a>
### Nested Schema for `sub_jobs`

Read-Only:

- `id` (String) Its id.
- `type` (String) Its type.
";
        assert_eq!(md, expected);
    }

    #[test]
    fn type_names() {
        let t = |s: &str| type_name(&serde_json::from_str(s).expect("json"));
        assert_eq!(t(r#""bool""#), "Boolean");
        assert_eq!(t(r#"["map","string"]"#), "Map of String");
        assert_eq!(t(r#"["set",["list","number"]]"#), "Set of List of Number");
        assert_eq!(t(r#"["object",{}]"#), "Object");
        assert_eq!(t("42"), "Unknown");
    }
}
