//! Builders for `tfplugin6::Schema`, so that a provider's schema reads like
//! its documentation instead of a wall of protobuf struct literals.
//!
//! Type constraints travel as cty's JSON type encoding (`"string"`,
//! `["list","number"]`, `["object",{"a":"bool"}]`). [`Type::to_json`] writes
//! them byte-exactly by hand: Terraform decodes the bytes, and schema caches
//! compare them, so the output must not depend on serde feature flags such
//! as map ordering.

use std::collections::BTreeMap;

use super::tfplugin6::schema::{self as proto, nested_block::NestingMode};
use super::tfplugin6::{Schema, StringKind};

/// A Terraform type constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    /// Any type, decided by the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// cty's JSON type encoding, compact, object attributes sorted by name.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write_json(&mut out);
        out.into_bytes()
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Type::String => out.push_str("\"string\""),
            Type::Number => out.push_str("\"number\""),
            Type::Bool => out.push_str("\"bool\""),
            Type::Dynamic => out.push_str("\"dynamic\""),
            Type::List(e) => write_collection(out, "list", e),
            Type::Set(e) => write_collection(out, "set", e),
            Type::Map(e) => write_collection(out, "map", e),
            Type::Object(attrs) => {
                out.push_str("[\"object\",{");
                for (i, (name, ty)) in attrs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(out, name);
                    out.push(':');
                    ty.write_json(out);
                }
                out.push_str("}]");
            }
            Type::Tuple(elems) => {
                out.push_str("[\"tuple\",[");
                for (i, ty) in elems.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    ty.write_json(out);
                }
                out.push_str("]]");
            }
        }
    }
}

fn write_collection(out: &mut String, kind: &str, element: &Type) {
    out.push_str("[\"");
    out.push_str(kind);
    out.push_str("\",");
    element.write_json(out);
    out.push(']');
}

fn write_json_string(out: &mut String, s: &str) {
    // serde_json escapes exactly as JSON requires; serialising a &str
    // cannot fail, and the fallback keeps this total without a panic path.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

/// One attribute. The flag setters keep the combination valid, because
/// Terraform rejects the whole provider schema if, say, an attribute is
/// both required and computed.
#[derive(Debug, Clone)]
pub struct Attribute {
    inner: proto::Attribute,
}

impl Attribute {
    /// Starts an attribute that is neither required, optional nor computed;
    /// one of those must be set before use.
    pub fn new(name: &str, ty: &Type) -> Self {
        Attribute {
            inner: proto::Attribute {
                name: name.to_string(),
                r#type: ty.to_json(),
                description_kind: StringKind::Plain as i32,
                ..Default::default()
            },
        }
    }

    /// The user must set it; excludes optional and computed.
    pub fn required(mut self) -> Self {
        self.inner.required = true;
        self.inner.optional = false;
        self.inner.computed = false;
        self
    }

    /// The user may set it; may be combined with `computed` (a default).
    pub fn optional(mut self) -> Self {
        self.inner.optional = true;
        self.inner.required = false;
        self
    }

    /// The provider sets it; excludes required.
    pub fn computed(mut self) -> Self {
        self.inner.computed = true;
        self.inner.required = false;
        self
    }

    /// Terraform hides the value in plan output and logs.
    pub fn sensitive(mut self) -> Self {
        self.inner.sensitive = true;
        self
    }

    pub fn deprecated(mut self) -> Self {
        self.inner.deprecated = true;
        self
    }

    /// The description shown by `terraform providers schema`, language
    /// servers and documentation tools, marked as Markdown when it uses
    /// Markdown (see [`description_kind`]).
    pub fn description(mut self, text: &str) -> Self {
        self.inner.description = text.to_string();
        self.inner.description_kind = description_kind(text) as i32;
        self
    }

    /// An attribute whose value is objects with attributes of their own
    /// (protocol 6's nested attribute), so each field can carry its own
    /// description where `Type::object` could only give it a type. The
    /// value on the wire is the same as for `nesting`'s collection of
    /// objects.
    pub fn nested(name: &str, nesting: ObjectNesting, attributes: Vec<Attribute>) -> Self {
        Attribute {
            inner: proto::Attribute {
                name: name.to_string(),
                nested_type: Some(proto::Object {
                    attributes: attributes.into_iter().map(Attribute::build).collect(),
                    nesting: nesting.to_proto() as i32,
                    ..Default::default()
                }),
                description_kind: StringKind::Plain as i32,
                ..Default::default()
            },
        }
    }

    pub fn build(self) -> proto::Attribute {
        self.inner
    }
}

/// How the objects of a nested attribute are collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectNesting {
    Single,
    List,
    Set,
    Map,
}

impl ObjectNesting {
    fn to_proto(self) -> proto::object::NestingMode {
        use proto::object::NestingMode;
        match self {
            ObjectNesting::Single => NestingMode::Single,
            ObjectNesting::List => NestingMode::List,
            ObjectNesting::Set => NestingMode::Set,
            ObjectNesting::Map => NestingMode::Map,
        }
    }
}

/// Markdown when the text uses Markdown syntax (code spans, emphasis,
/// links), plain otherwise. Editors and documentation tools render a
/// Markdown description and show a plain one verbatim, so a description
/// with backticks marked plain would show them as literal characters.
pub fn description_kind(text: &str) -> StringKind {
    let markdown = text.contains('`')
        || text.contains("**")
        || text.contains("](")
        || text.lines().any(|l| l.trim_start().starts_with("- "));
    if markdown {
        StringKind::Markdown
    } else {
        StringKind::Plain
    }
}

impl From<Attribute> for proto::Attribute {
    fn from(a: Attribute) -> Self {
        a.build()
    }
}

/// How many instances of a nested block may appear, and how they are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    /// Like `Single`, but never null: absent means all attributes null.
    Group,
}

impl Nesting {
    fn to_proto(self) -> NestingMode {
        match self {
            Nesting::Single => NestingMode::Single,
            Nesting::List => NestingMode::List,
            Nesting::Set => NestingMode::Set,
            Nesting::Map => NestingMode::Map,
            Nesting::Group => NestingMode::Group,
        }
    }
}

/// A block: attributes plus nested block types.
#[derive(Debug, Clone)]
pub struct Block {
    inner: proto::Block,
}

impl Default for Block {
    fn default() -> Self {
        Self::new()
    }
}

impl Block {
    pub fn new() -> Self {
        Block {
            inner: proto::Block {
                description_kind: StringKind::Plain as i32,
                ..Default::default()
            },
        }
    }

    pub fn attribute(mut self, attr: Attribute) -> Self {
        self.inner.attributes.push(attr.build());
        self
    }

    pub fn nested(mut self, block: NestedBlock) -> Self {
        self.inner.block_types.push(block.build());
        self
    }

    /// As [`Attribute::description`].
    pub fn description(mut self, text: &str) -> Self {
        self.inner.description = text.to_string();
        self.inner.description_kind = description_kind(text) as i32;
        self
    }

    pub fn deprecated(mut self) -> Self {
        self.inner.deprecated = true;
        self
    }

    pub fn build(self) -> proto::Block {
        self.inner
    }
}

/// A nested block type such as `timeouts { ... }`.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    inner: proto::NestedBlock,
}

impl NestedBlock {
    pub fn new(type_name: &str, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            inner: proto::NestedBlock {
                type_name: type_name.to_string(),
                block: Some(block.build()),
                nesting: nesting.to_proto() as i32,
                min_items: 0,
                max_items: 0,
            },
        }
    }

    /// Only meaningful for list and set nesting; 0 means no bound.
    pub fn min_items(mut self, n: i64) -> Self {
        self.inner.min_items = n;
        self
    }

    /// Only meaningful for list and set nesting; 0 means no bound.
    pub fn max_items(mut self, n: i64) -> Self {
        self.inner.max_items = n;
        self
    }

    pub fn build(self) -> proto::NestedBlock {
        self.inner
    }
}

/// A complete schema. `version` is recorded in state for managed resources;
/// data sources and the provider itself use 0.
pub fn schema(version: i64, block: Block) -> Schema {
    let mut block = block.build();
    block.version = version;
    Schema {
        version,
        block: Some(block),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(t: &Type) -> String {
        String::from_utf8(t.to_json()).unwrap()
    }

    #[test]
    fn primitive_type_json_is_exact() {
        assert_eq!(Type::String.to_json(), b"\"string\"");
        assert_eq!(Type::Bool.to_json(), b"\"bool\"");
        assert_eq!(Type::Number.to_json(), b"\"number\"");
        assert_eq!(Type::Dynamic.to_json(), b"\"dynamic\"");
    }

    #[test]
    fn collection_and_structural_type_json_is_exact() {
        assert_eq!(json(&Type::map(Type::String)), r#"["map","string"]"#);
        assert_eq!(json(&Type::set(Type::Number)), r#"["set","number"]"#);
        assert_eq!(
            json(&Type::list(Type::object([
                ("status", Type::String),
                ("id", Type::String),
                ("sub", Type::list(Type::Bool)),
            ]))),
            r#"["list",["object",{"id":"string","status":"string","sub":["list","bool"]}]]"#
        );
        assert_eq!(
            json(&Type::Tuple(vec![Type::String, Type::Number])),
            r#"["tuple",["string","number"]]"#
        );
        assert_eq!(json(&Type::object::<&str>([])), r#"["object",{}]"#);
    }

    #[test]
    fn object_attribute_names_are_json_escaped() {
        assert_eq!(
            json(&Type::object([("a\"b", Type::Bool)])),
            r#"["object",{"a\"b":"bool"}]"#
        );
    }

    #[test]
    fn attribute_flags_and_description() {
        let a = Attribute::new("job_id", &Type::String)
            .required()
            .description("ID of the job.")
            .build();
        assert_eq!(a.name, "job_id");
        assert_eq!(a.r#type, b"\"string\"");
        assert!(a.required && !a.optional && !a.computed && !a.sensitive);
        assert_eq!(a.description, "ID of the job.");
        assert_eq!(a.description_kind, StringKind::Plain as i32);

        let b = Attribute::new("region", &Type::String)
            .optional()
            .computed()
            .sensitive()
            .build();
        assert!(!b.required && b.optional && b.computed && b.sensitive);
    }

    #[test]
    fn descriptions_using_markdown_are_marked_markdown() {
        let kind = |text: &str| {
            Attribute::new("x", &Type::String)
                .description(text)
                .build()
                .description_kind
        };
        assert_eq!(
            kind("Falls back to `HW_REGION`."),
            StringKind::Markdown as i32
        );
        assert_eq!(
            kind("See [the docs](https://x)."),
            StringKind::Markdown as i32
        );
        assert_eq!(kind("A **bold** claim."), StringKind::Markdown as i32);
        assert_eq!(kind("The job ID."), StringKind::Plain as i32);
        assert_eq!(kind("0-20 % less, e.g. 15s."), StringKind::Plain as i32);
        let block = Block::new().description("Waits for `cce` jobs.").build();
        assert_eq!(block.description_kind, StringKind::Markdown as i32);
    }

    #[test]
    fn nested_attributes_carry_their_fields_and_no_type() {
        let a = Attribute::nested(
            "sub_jobs",
            ObjectNesting::List,
            vec![Attribute::new("id", &Type::String)
                .computed()
                .description("The id.")],
        )
        .computed()
        .description("Each sub-job.")
        .build();
        assert!(a.r#type.is_empty(), "a nested attribute has no type");
        let object = a.nested_type.expect("nested type");
        assert_eq!(object.nesting, 2, "LIST");
        assert_eq!(object.attributes[0].name, "id");
        assert_eq!(object.attributes[0].description, "The id.");
        assert!(a.computed && !a.optional);
    }

    #[test]
    fn conflicting_flags_resolve_to_a_valid_combination() {
        let a = Attribute::new("x", &Type::Bool)
            .optional()
            .computed()
            .required()
            .build();
        assert!(a.required && !a.optional && !a.computed);
        let b = Attribute::new("x", &Type::Bool)
            .required()
            .computed()
            .build();
        assert!(!b.required && b.computed);
    }

    #[test]
    fn schema_with_nested_single_block() {
        let timeouts = Block::new().attribute(
            Attribute::new("read", &Type::String)
                .optional()
                .description("How long to wait."),
        );
        let s = schema(
            0,
            Block::new()
                .description("Waits for a job.")
                .attribute(Attribute::new("id", &Type::String).computed())
                .nested(NestedBlock::new("timeouts", Nesting::Single, timeouts)),
        );
        assert_eq!(s.version, 0);
        let block = s.block.unwrap();
        assert_eq!(block.description, "Waits for a job.");
        assert_eq!(block.description_kind, StringKind::Plain as i32);
        assert_eq!(block.attributes.len(), 1);
        assert_eq!(block.block_types.len(), 1);
        let nb = &block.block_types[0];
        assert_eq!(nb.type_name, "timeouts");
        assert_eq!(nb.nesting, NestingMode::Single as i32);
        assert_eq!(nb.nesting, 1);
        let inner = nb.block.as_ref().unwrap();
        assert_eq!(inner.attributes[0].name, "read");
        assert!(inner.attributes[0].optional);
    }

    #[test]
    fn nesting_modes_map_to_protocol_numbers() {
        let n = |m| {
            NestedBlock::new("b", m, Block::new())
                .min_items(1)
                .max_items(3)
                .build()
        };
        assert_eq!(n(Nesting::Single).nesting, 1);
        assert_eq!(n(Nesting::List).nesting, 2);
        assert_eq!(n(Nesting::Set).nesting, 3);
        assert_eq!(n(Nesting::Map).nesting, 4);
        assert_eq!(n(Nesting::Group).nesting, 5);
        let l = n(Nesting::List);
        assert_eq!((l.min_items, l.max_items), (1, 3));
    }

    #[test]
    fn schema_version_is_set_on_schema_and_block() {
        let s = schema(2, Block::new());
        assert_eq!(s.version, 2);
        assert_eq!(s.block.unwrap().version, 2);
    }
}
