//! Parser and evaluator for the `filter` query parameter of the UniFi
//! Integration API.
//!
//! Every list endpoint of the simulator (sites, DNS policies, clients, ...)
//! accepts an optional `filter` query parameter. The handler calls
//! [`Filter::parse`] with the endpoint's property table
//! ([`SITE_PROPERTIES`], [`DNS_POLICY_PROPERTIES`], [`CLIENT_PROPERTIES`]);
//! a [`FilterError`] becomes a `400 Bad Request` whose message says what is
//! wrong and where. A parsed [`Filter`] is then applied with
//! [`Filter::matches`] to each item, as the JSON object the API returns for
//! it, before `offset`/`limit` pagination, so `totalCount` counts only the
//! items that match.
//!
//! # Syntax
//!
//! The syntax follows the "Filtering" section of the vendor's OpenAPI
//! document:
//!
//! - A property expression is `<property>.<function>(<args>)`, for example
//!   `id.eq(123)` or `name.isNotNull()`. Property names may be dotted paths
//!   (`access.type`), which walk nested JSON objects.
//! - Compound expressions: `and(<expr>, <expr>, ...)` and `or(...)` take at
//!   least two operands, `not(<expr>)` takes exactly one.
//! - Literals: STRING in single quotes with `''` for a quote inside
//!   (`'Hello, ''World''!'`); INTEGER (optional leading `-`, then digits);
//!   DECIMAL (digits with a fraction or exponent; no property has this type,
//!   so it is recognised only to report it as the wrong type); BOOLEAN `true`
//!   or `false`; UUID in the 8-4-4-4-12 hex form; TIMESTAMP as an ISO 8601
//!   date (`2026-08-20`) or date-time (`2026-08-20T04:14:55Z`,
//!   `2026-08-20T06:14:55.5+02:00`). Everything but STRING is unquoted.
//! - Functions: `isNull`, `isNotNull` take no argument; `eq`, `ne`, `gt`,
//!   `ge`, `lt`, `le`, `like` take exactly one; `in` and `notIn` take one or
//!   more, written either as `in(1, 2, 3)` or as a set `in([1, 2, 3])`.
//! - `like` patterns: `.` matches exactly one character, `*` any run of
//!   characters (including none), `\` escapes `.`, `*` and `\`. Everything
//!   else, `%` and `_` included, is literal, and the whole value must match.
//!
//! # Decisions
//!
//! Where the vendor's document is silent, this module decides as follows.
//!
//! Parsing:
//!
//! - Keywords (`and`, `or`, `not`), function names, property names and the
//!   literals `true`/`false` are case-sensitive, as documented.
//! - Whitespace is allowed between any two tokens, including around the `.`
//!   of a property path, and around the whole filter.
//! - Parsing stops at the first problem, reading left to right, and reports
//!   it with its position: a 0-based offset counted in characters (Unicode
//!   scalar values, not bytes) from the start of the untrimmed input.
//! - Literals are strictly typed: the argument's literal must be of the
//!   property's type. A quoted UUID or timestamp (`id.eq('...')`), an
//!   unquoted string (`name.eq(foo)`), a DECIMAL for an INTEGER property and
//!   `null` as a value are all errors.
//! - A set (`[...]`) must be the only argument of `in`/`notIn`, must not be
//!   empty and cannot be nested; it is an error anywhere else.
//! - In a `like` pattern, a `\` that is not followed by `.`, `*` or `\`
//!   stands for itself.
//! - A date-time without an offset is taken as UTC; the seconds may be left
//!   out and a fraction of a second given.
//! - An empty filter (after trimming whitespace) is an error, as is a filter
//!   longer than [`MAX_FILTER_LENGTH`] characters or one whose `and`/`or`/
//!   `not` operators are nested more than [`MAX_NESTING_DEPTH`] levels deep.
//!   These limits keep parsing and evaluation free of stack overflows.
//!
//! Evaluation:
//!
//! - A property that is missing from the item, or is JSON `null` (as is any
//!   path through something that is not an object), is null: `isNull` is
//!   true; `eq`, `gt`, `ge`, `lt`, `le`, `like` and `in` are false; `ne` and
//!   `notIn` are true.
//! - A present value that cannot be compared with the argument (a JSON type
//!   other than the property's, a string that is not a UUID or timestamp)
//!   is unequal to every argument: `isNotNull`, `ne` and `notIn` are true,
//!   everything else is false.
//! - Strings compare exactly and case-sensitively (ordering, should a table
//!   allow it, is by code point).
//! - UUIDs compare as parsed UUIDs, so case does not matter.
//! - Timestamps compare as instants: `2026-08-20T06:00:00+02:00` equals
//!   `2026-08-20T04:00:00Z`, and a date literal means midnight UTC of that
//!   date. The item's value is parsed with the same rules as a literal.
//! - Integers compare numerically; an item's value that is a JSON float
//!   compares by value too (`5.0` equals `5`).
//! - `ne` is the negation of `eq`, and `notIn` of `in`, for present values.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;
use time::format_description::well_known::{Iso8601, Rfc3339};
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

/// The longest filter accepted, in characters.
pub const MAX_FILTER_LENGTH: usize = 4096;

/// The deepest nesting of `and`/`or`/`not` accepted.
pub const MAX_NESTING_DEPTH: usize = 64;

/// The type of a filterable property, which decides which literals its
/// arguments must be and how values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropType {
    String,
    Integer,
    Boolean,
    Uuid,
    Timestamp,
}

impl PropType {
    /// The name the vendor's document uses for the type, e.g. `STRING`.
    pub const fn name(self) -> &'static str {
        match self {
            PropType::String => "STRING",
            PropType::Integer => "INTEGER",
            PropType::Boolean => "BOOLEAN",
            PropType::Uuid => "UUID",
            PropType::Timestamp => "TIMESTAMP",
        }
    }
}

impl fmt::Display for PropType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A filter function, the part after the property's `.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    IsNull,
    IsNotNull,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    In,
    NotIn,
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arity {
    Zero,
    One,
    AtLeastOne,
}

impl Func {
    /// Every function, in the order of the vendor's document.
    pub const ALL: [Func; 11] = [
        Func::IsNull,
        Func::IsNotNull,
        Func::Eq,
        Func::Ne,
        Func::Gt,
        Func::Ge,
        Func::Lt,
        Func::Le,
        Func::Like,
        Func::In,
        Func::NotIn,
    ];

    /// The function's name as written in a filter, e.g. `notIn`.
    pub const fn name(self) -> &'static str {
        match self {
            Func::IsNull => "isNull",
            Func::IsNotNull => "isNotNull",
            Func::Eq => "eq",
            Func::Ne => "ne",
            Func::Gt => "gt",
            Func::Ge => "ge",
            Func::Lt => "lt",
            Func::Le => "le",
            Func::Like => "like",
            Func::In => "in",
            Func::NotIn => "notIn",
        }
    }

    /// The function with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the function can apply to a property of this type at all:
    /// `gt`/`ge`/`lt`/`le` not to BOOLEAN, `like` only to STRING.
    pub const fn applies_to(self, ty: PropType) -> bool {
        match self {
            Func::Gt | Func::Ge | Func::Lt | Func::Le => !matches!(ty, PropType::Boolean),
            Func::Like => matches!(ty, PropType::String),
            _ => true,
        }
    }

    const fn arity(self) -> Arity {
        match self {
            Func::IsNull | Func::IsNotNull => Arity::Zero,
            Func::In | Func::NotIn => Arity::AtLeastOne,
            _ => Arity::One,
        }
    }

    const fn takes_set(self) -> bool {
        matches!(self, Func::In | Func::NotIn)
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A property an endpoint lets clients filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    /// The name as written in a filter; dots separate nested objects.
    pub name: &'static str,
    pub ty: PropType,
    /// The functions allowed on this property.
    pub functions: &'static [Func],
}

impl Property {
    pub const fn new(name: &'static str, ty: PropType, functions: &'static [Func]) -> Self {
        Property {
            name,
            ty,
            functions,
        }
    }

    /// Whether `func` may be used on this property.
    pub fn allows(&self, func: Func) -> bool {
        self.functions.contains(&func) && func.applies_to(self.ty)
    }
}

const EQ_NE: &[Func] = &[Func::Eq, Func::Ne];
const EQ_NE_IN: &[Func] = &[Func::Eq, Func::Ne, Func::In, Func::NotIn];
const EQ_NE_IN_LIKE: &[Func] = &[Func::Eq, Func::Ne, Func::In, Func::NotIn, Func::Like];
const ORDERED_IN: &[Func] = &[
    Func::Eq,
    Func::Ne,
    Func::Gt,
    Func::Ge,
    Func::Lt,
    Func::Le,
    Func::In,
    Func::NotIn,
];
const NULLABLE_EQ_NE_IN: &[Func] = &[
    Func::IsNull,
    Func::IsNotNull,
    Func::Eq,
    Func::Ne,
    Func::In,
    Func::NotIn,
];
const NULLABLE_ORDERED: &[Func] = &[
    Func::IsNull,
    Func::IsNotNull,
    Func::Eq,
    Func::Ne,
    Func::Gt,
    Func::Ge,
    Func::Lt,
    Func::Le,
];
const NULLABLE_EQ_NE: &[Func] = &[Func::IsNull, Func::IsNotNull, Func::Eq, Func::Ne];

/// What `GET /v1/sites` can filter on.
pub const SITE_PROPERTIES: &[Property] = &[
    Property::new("id", PropType::Uuid, EQ_NE_IN),
    Property::new("internalReference", PropType::String, EQ_NE_IN),
    Property::new("name", PropType::String, EQ_NE_IN),
];

/// What the DNS policy list can filter on.
pub const DNS_POLICY_PROPERTIES: &[Property] = &[
    Property::new("type", PropType::String, EQ_NE_IN),
    Property::new("id", PropType::Uuid, EQ_NE_IN),
    Property::new("enabled", PropType::Boolean, EQ_NE),
    Property::new("domain", PropType::String, EQ_NE_IN_LIKE),
    Property::new("ipv4Address", PropType::String, EQ_NE_IN_LIKE),
    Property::new("ipv6Address", PropType::String, EQ_NE_IN_LIKE),
    Property::new("targetDomain", PropType::String, EQ_NE_IN_LIKE),
    Property::new("mailServerDomain", PropType::String, EQ_NE_IN_LIKE),
    Property::new("text", PropType::String, EQ_NE_IN_LIKE),
    Property::new("serverDomain", PropType::String, EQ_NE_IN_LIKE),
    Property::new("ipAddress", PropType::String, EQ_NE_IN_LIKE),
    Property::new("ttlSeconds", PropType::Integer, ORDERED_IN),
    Property::new("priority", PropType::Integer, ORDERED_IN),
    Property::new("port", PropType::Integer, ORDERED_IN),
    Property::new("weight", PropType::Integer, ORDERED_IN),
    Property::new("service", PropType::String, EQ_NE_IN),
    Property::new("protocol", PropType::String, EQ_NE_IN),
];

/// What the client list can filter on.
pub const CLIENT_PROPERTIES: &[Property] = &[
    Property::new("id", PropType::Uuid, EQ_NE_IN),
    Property::new("type", PropType::String, EQ_NE_IN),
    Property::new("macAddress", PropType::String, NULLABLE_EQ_NE_IN),
    Property::new("ipAddress", PropType::String, NULLABLE_EQ_NE_IN),
    Property::new("connectedAt", PropType::Timestamp, NULLABLE_ORDERED),
    Property::new("access.type", PropType::String, EQ_NE_IN),
    Property::new("access.authorized", PropType::Boolean, NULLABLE_EQ_NE),
];

/// Why a filter was rejected, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    message: String,
    position: Option<usize>,
}

impl FilterError {
    fn at(position: usize, message: impl Into<String>) -> Self {
        FilterError {
            message: message.into(),
            position: Some(position),
        }
    }

    fn whole(message: impl Into<String>) -> Self {
        FilterError {
            message: message.into(),
            position: None,
        }
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 0-based character offset of the problem in the filter, when the
    /// problem is at one place rather than with the filter as a whole.
    pub fn position(&self) -> Option<usize> {
        self.position
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(position) => write!(f, "Invalid filter at position {position}: {}", self.message),
            None => write!(f, "Invalid filter: {}", self.message),
        }
    }
}

impl std::error::Error for FilterError {}

/// A parsed and type-checked filter.
#[derive(Debug, Clone)]
pub struct Filter {
    root: Expr,
}

#[derive(Debug, Clone)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Test(Test),
}

#[derive(Debug, Clone)]
struct Test {
    path: Vec<&'static str>,
    func: Func,
    operands: Vec<Operand>,
}

#[derive(Debug, Clone)]
enum Operand {
    String(String),
    Integer(i64),
    Boolean(bool),
    Uuid(Uuid),
    Timestamp(OffsetDateTime),
    Pattern(Vec<PatternToken>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternToken {
    /// `.`: exactly one character.
    One,
    /// `*`: any run of characters, including none.
    Any,
    Literal(char),
}

impl Filter {
    /// Parses and type-checks against the endpoint's property table: unknown
    /// property, function not allowed for that property, wrong argument
    /// count, argument literal of the wrong type (e.g. a string for an
    /// INTEGER property, a non-UUID for a UUID property, `true` for a STRING)
    /// are all errors.
    pub fn parse(input: &str, properties: &[Property]) -> Result<Filter, FilterError> {
        if input.chars().take(MAX_FILTER_LENGTH + 1).count() > MAX_FILTER_LENGTH {
            return Err(FilterError::whole(format!(
                "filter is too long (more than {MAX_FILTER_LENGTH} characters)"
            )));
        }
        if input.trim().is_empty() {
            return Err(FilterError::whole("filter must not be empty"));
        }
        let mut parser = Parser {
            chars: input.chars().collect(),
            pos: 0,
            properties,
        };
        let root = parser.parse_expr(0)?;
        parser.skip_ws();
        if let Some(c) = parser.peek() {
            let message = if c == ')' {
                "unbalanced parentheses: unexpected ')' after the end of the expression".to_owned()
            } else {
                format!(
                    "unexpected '{}' after the end of the expression",
                    parser.snippet(parser.pos)
                )
            };
            return Err(FilterError::at(parser.pos, message));
        }
        Ok(Filter { root })
    }

    /// Evaluates against one JSON object as the API would return it (dotted
    /// paths walk nested objects).
    pub fn matches(&self, item: &Value) -> bool {
        self.root.eval(item)
    }
}

impl Expr {
    fn eval(&self, item: &Value) -> bool {
        match self {
            Expr::And(operands) => operands.iter().all(|e| e.eval(item)),
            Expr::Or(operands) => operands.iter().any(|e| e.eval(item)),
            Expr::Not(operand) => !operand.eval(item),
            Expr::Test(test) => test.eval(item),
        }
    }
}

impl Test {
    fn eval(&self, item: &Value) -> bool {
        let value = lookup(item, &self.path);
        let Some(value) = value else {
            return matches!(self.func, Func::IsNull | Func::Ne | Func::NotIn);
        };
        let first = || self.operands.first().and_then(|o| compare(value, o));
        let is_in = || {
            self.operands
                .iter()
                .any(|o| compare(value, o) == Some(Ordering::Equal))
        };
        match self.func {
            Func::IsNull => false,
            Func::IsNotNull => true,
            Func::Eq => first() == Some(Ordering::Equal),
            Func::Ne => first() != Some(Ordering::Equal),
            Func::Gt => first() == Some(Ordering::Greater),
            Func::Ge => matches!(first(), Some(Ordering::Greater | Ordering::Equal)),
            Func::Lt => first() == Some(Ordering::Less),
            Func::Le => matches!(first(), Some(Ordering::Less | Ordering::Equal)),
            Func::Like => match (self.operands.first(), value.as_str()) {
                (Some(Operand::Pattern(pattern)), Some(text)) => like_matches(pattern, text),
                _ => false,
            },
            Func::In => is_in(),
            Func::NotIn => !is_in(),
        }
    }
}

/// The value at `path`, or `None` when it is missing or JSON `null`.
fn lookup<'v>(item: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut current = item;
    for segment in path {
        current = current.as_object()?.get(*segment)?;
    }
    (!current.is_null()).then_some(current)
}

/// How the item's `value` orders against `operand`, or `None` when they
/// cannot be compared.
fn compare(value: &Value, operand: &Operand) -> Option<Ordering> {
    match operand {
        Operand::String(s) => Some(value.as_str()?.cmp(s.as_str())),
        Operand::Integer(i) => compare_integer(value, *i),
        Operand::Boolean(b) => Some(value.as_bool()?.cmp(b)),
        Operand::Uuid(u) => Some(Uuid::try_parse(value.as_str()?).ok()?.cmp(u)),
        Operand::Timestamp(t) => Some(parse_timestamp(value.as_str()?)?.cmp(t)),
        Operand::Pattern(_) => None,
    }
}

fn compare_integer(value: &Value, operand: i64) -> Option<Ordering> {
    if let Some(v) = value.as_i64() {
        Some(v.cmp(&operand))
    } else if let Some(v) = value.as_u64() {
        Some(i128::from(v).cmp(&i128::from(operand)))
    } else {
        // Precision loss of a huge operand does not matter for float values.
        value.as_f64()?.partial_cmp(&(operand as f64))
    }
}

/// Compiles a `like` pattern: `.` one character, `*` any run, `\` escapes
/// `.`, `*` and `\`; any other `\` stands for itself.
fn compile_pattern(pattern: &str) -> Vec<PatternToken> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            '.' => PatternToken::One,
            '*' => PatternToken::Any,
            '\\' => match chars.peek() {
                Some(&next @ ('.' | '*' | '\\')) => {
                    chars.next();
                    PatternToken::Literal(next)
                }
                _ => PatternToken::Literal('\\'),
            },
            other => PatternToken::Literal(other),
        };
        // Consecutive `*` match the same as one.
        if !(token == PatternToken::Any && tokens.last() == Some(&PatternToken::Any)) {
            tokens.push(token);
        }
    }
    tokens
}

/// Anchored wildcard match, iterative with single-star backtracking, so it
/// runs in O(pattern × text) at worst and never recurses.
fn like_matches(pattern: &[PatternToken], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    // Where the last `*` was, and where in the text its run ends so far.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some(PatternToken::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(PatternToken::One) => {
                p += 1;
                t += 1;
            }
            Some(PatternToken::Literal(l)) if *l == c => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|token| *token == PatternToken::Any)
}

/// An unquoted literal, classified by its spelling.
#[derive(Debug, Clone, PartialEq)]
enum Bare {
    Integer(i64),
    Decimal,
    Boolean(bool),
    Uuid(Uuid),
    Timestamp(OffsetDateTime),
}

impl Bare {
    fn kind(&self) -> &'static str {
        match self {
            Bare::Integer(_) => "INTEGER",
            Bare::Decimal => "DECIMAL",
            Bare::Boolean(_) => "BOOLEAN",
            Bare::Uuid(_) => "UUID",
            Bare::Timestamp(_) => "TIMESTAMP",
        }
    }
}

fn classify(text: &str) -> Option<Bare> {
    match text {
        "true" => return Some(Bare::Boolean(true)),
        "false" => return Some(Bare::Boolean(false)),
        _ => {}
    }
    if is_uuid_shape(text) {
        return Uuid::try_parse(text).ok().map(Bare::Uuid);
    }
    if let Some(t) = parse_timestamp(text) {
        return Some(Bare::Timestamp(t));
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().map(Bare::Integer);
    }
    if is_decimal(digits) {
        return Some(Bare::Decimal);
    }
    None
}

fn is_all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `digits [. digits] [e [+-] digits]`, with a fraction or an exponent.
fn is_decimal(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (text.get(..i).unwrap_or(""), text.get(i + 1..)),
        None => (text, None),
    };
    let (int, fraction) = match mantissa.split_once('.') {
        Some((int, fraction)) => (int, Some(fraction)),
        None => (mantissa, None),
    };
    let exponent_ok =
        exponent.is_none_or(|e| is_all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    is_all_digits(int)
        && fraction.is_none_or(is_all_digits)
        && exponent_ok
        && (fraction.is_some() || exponent.is_some())
}

/// The 8-4-4-4-12 hex form.
fn is_uuid_shape(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// An ISO 8601 calendar date (midnight UTC) or date-time (UTC when it has
/// no offset).
fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    let date_shaped = bytes.len() >= 10
        && bytes.iter().take(10).enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !date_shaped {
        return None;
    }
    if bytes.len() == 10 {
        let date = Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
        return Some(date.midnight().assume_utc());
    }
    if !matches!(bytes.get(10), Some(b'T' | b't')) {
        return None;
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
        .or_else(|_| PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).map(|t| t.assume_utc()))
        .ok()
}

/// An argument as written, before it is checked against the property.
#[derive(Debug, Clone)]
struct RawArg {
    pos: usize,
    kind: RawKind,
}

#[derive(Debug, Clone)]
enum RawKind {
    Quoted(String),
    Bare(String),
    Set(Vec<RawArg>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logic {
    And,
    Or,
    Not,
}

impl Logic {
    fn from_name(name: &str) -> Option<Logic> {
        match name {
            "and" => Some(Logic::And),
            "or" => Some(Logic::Or),
            "not" => Some(Logic::Not),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Logic::And => "and",
            Logic::Or => "or",
            Logic::Not => "not",
        }
    }
}

struct Parser<'p> {
    chars: Vec<char>,
    pos: usize,
    properties: &'p [Property],
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn ends_bare(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '(' | ')' | '[' | ']' | '\'')
}

fn list(functions: &[Func]) -> String {
    functions
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Up to 20 characters of the input from `pos`, to quote in a message.
    fn snippet(&self, pos: usize) -> String {
        let rest = self.chars.get(pos..).unwrap_or_default();
        let mut text: String = rest.iter().take(20).collect();
        if rest.len() > 20 {
            text.push_str("...");
        }
        text
    }

    /// The character at `pos` quoted, or "the end of the filter".
    fn found(&self, pos: usize) -> String {
        match self.chars.get(pos) {
            Some(c) => format!("'{c}'"),
            None => "the end of the filter".to_owned(),
        }
    }

    fn ident(&mut self) -> Option<String> {
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        let start = self.pos;
        while self.peek().is_some_and(is_ident_continue) {
            self.pos += 1;
        }
        Some(
            self.chars
                .get(start..self.pos)
                .unwrap_or_default()
                .iter()
                .collect(),
        )
    }

    fn parse_expr(&mut self, depth: usize) -> Result<Expr, FilterError> {
        self.skip_ws();
        let start = self.pos;
        let Some(first) = self.ident() else {
            return Err(FilterError::at(
                start,
                format!(
                    "expected an expression ('<property>.<function>(...)', 'and(...)', \
                     'or(...)' or 'not(...)') but found {}",
                    self.found(start)
                ),
            ));
        };
        let mut segments = vec![(first, start)];
        loop {
            let before = self.pos;
            self.skip_ws();
            if self.peek() != Some('.') {
                self.pos = before;
                break;
            }
            self.pos += 1;
            self.skip_ws();
            let segment_pos = self.pos;
            let Some(segment) = self.ident() else {
                return Err(FilterError::at(
                    segment_pos,
                    format!(
                        "expected a property or function name after '.' but found {}",
                        self.found(segment_pos)
                    ),
                ));
            };
            segments.push((segment, segment_pos));
        }
        self.skip_ws();
        let open = self.peek() == Some('(');
        match segments.pop() {
            Some((name, name_pos)) if segments.is_empty() => {
                match (Logic::from_name(&name), open) {
                    (Some(logic), true) => self.parse_logic(logic, name_pos, depth),
                    (None, true) => Err(FilterError::at(
                        name_pos,
                        format!(
                            "unknown operator '{name}' (expected 'and', 'or', 'not' or \
                             '<property>.<function>(...)')"
                        ),
                    )),
                    (_, false) => Err(FilterError::at(
                        self.pos,
                        format!(
                            "expected '.<function>(...)' after '{name}' but found {}",
                            self.found(self.pos)
                        ),
                    )),
                }
            }
            Some((function, function_pos)) => {
                if !open {
                    return Err(FilterError::at(
                        self.pos,
                        format!(
                            "expected '(' after function '{function}' but found {}",
                            self.found(self.pos)
                        ),
                    ));
                }
                let property_pos = segments.first().map_or(start, |(_, p)| *p);
                let property: Vec<&str> = segments.iter().map(|(s, _)| s.as_str()).collect();
                self.parse_test(&property.join("."), property_pos, &function, function_pos)
            }
            None => Err(FilterError::at(start, "expected an expression")),
        }
    }

    /// `and(...)`, `or(...)` or `not(...)`, with `self.pos` at the `(`.
    fn parse_logic(&mut self, logic: Logic, pos: usize, depth: usize) -> Result<Expr, FilterError> {
        if depth >= MAX_NESTING_DEPTH {
            return Err(FilterError::at(
                pos,
                format!(
                    "filter is nested too deeply (more than {MAX_NESTING_DEPTH} levels of \
                     'and', 'or' and 'not')"
                ),
            ));
        }
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        let mut operands = Vec::new();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                operands.push(self.parse_expr(depth + 1)?);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    None => {
                        return Err(FilterError::at(
                            self.pos,
                            format!(
                                "unbalanced parentheses: missing ')' to close the '(' of \
                                 '{}' at position {open}",
                                logic.name()
                            ),
                        ));
                    }
                    Some(c) => {
                        return Err(FilterError::at(
                            self.pos,
                            format!("expected ',' or ')' but found '{c}'"),
                        ));
                    }
                }
            }
        }
        let count = operands.len();
        let count_error = |expected: &str| {
            FilterError::at(
                pos,
                format!("'{}' takes {expected}, got {count}", logic.name()),
            )
        };
        match logic {
            Logic::Not => match (operands.pop(), operands.is_empty()) {
                (Some(operand), true) => Ok(Expr::Not(Box::new(operand))),
                _ => Err(count_error("exactly 1 operand")),
            },
            Logic::And | Logic::Or if count < 2 => Err(count_error("at least 2 operands")),
            Logic::And => Ok(Expr::And(operands)),
            Logic::Or => Ok(Expr::Or(operands)),
        }
    }

    /// `<property>.<function>(...)`, with `self.pos` at the `(`.
    fn parse_test(
        &mut self,
        property: &str,
        property_pos: usize,
        function: &str,
        function_pos: usize,
    ) -> Result<Expr, FilterError> {
        let Some(prop) = self.properties.iter().find(|p| p.name == property) else {
            let known: Vec<&str> = self.properties.iter().map(|p| p.name).collect();
            let known = if known.is_empty() {
                "this list cannot be filtered".to_owned()
            } else {
                format!("known properties: {}", known.join(", "))
            };
            return Err(FilterError::at(
                property_pos,
                format!("unknown property '{property}' ({known})"),
            ));
        };
        let allowed: Vec<Func> = prop
            .functions
            .iter()
            .copied()
            .filter(|f| f.applies_to(prop.ty))
            .collect();
        let Some(func) = Func::from_name(function) else {
            return Err(FilterError::at(
                function_pos,
                format!(
                    "unknown function '{function}' (allowed on property '{}': {})",
                    prop.name,
                    list(&allowed)
                ),
            ));
        };
        if !prop.allows(func) {
            return Err(FilterError::at(
                function_pos,
                format!(
                    "function '{func}' is not allowed on property '{}' of type {} (allowed: {})",
                    prop.name,
                    prop.ty,
                    list(&allowed)
                ),
            ));
        }

        let args = self.parse_args()?;
        let args = match args.iter().position(|a| matches!(a.kind, RawKind::Set(_))) {
            None => args,
            Some(i) => {
                let set_pos = args.get(i).map_or(function_pos, |a| a.pos);
                if !func.takes_set() {
                    return Err(FilterError::at(
                        set_pos,
                        format!(
                            "a set '[...]' is only allowed as the argument of 'in' or 'notIn', \
                             not of '{func}'"
                        ),
                    ));
                }
                if args.len() != 1 {
                    return Err(FilterError::at(
                        set_pos,
                        format!("a set '[...]' must be the only argument of '{func}'"),
                    ));
                }
                match args.into_iter().next() {
                    Some(RawArg {
                        kind: RawKind::Set(items),
                        ..
                    }) => items,
                    _ => Vec::new(),
                }
            }
        };

        let count = args.len();
        let count_error = match func.arity() {
            Arity::Zero if count != 0 => Some("takes no arguments".to_owned()),
            Arity::One if count != 1 => Some("takes exactly 1 argument".to_owned()),
            Arity::AtLeastOne if count == 0 => Some("takes at least 1 argument".to_owned()),
            _ => None,
        };
        if let Some(expected) = count_error {
            return Err(FilterError::at(
                function_pos,
                format!("function '{func}' {expected}, got {count}"),
            ));
        }

        let operands = args
            .iter()
            .map(|arg| convert(arg, prop, func))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Expr::Test(Test {
            path: prop.name.split('.').collect(),
            func,
            operands,
        }))
    }

    /// `( [arg {, arg}] )`, with `self.pos` at the `(`.
    fn parse_args(&mut self) -> Result<Vec<RawArg>, FilterError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        let mut args = Vec::new();
        if self.peek() == Some(')') {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.parse_arg(true)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(args);
                }
                None => {
                    return Err(FilterError::at(
                        self.pos,
                        format!(
                            "unbalanced parentheses: missing ')' to close the argument list \
                             opened at position {open}"
                        ),
                    ));
                }
                Some(c) => {
                    return Err(FilterError::at(
                        self.pos,
                        format!("expected ',' or ')' after an argument but found '{c}'"),
                    ));
                }
            }
        }
    }

    fn parse_arg(&mut self, allow_set: bool) -> Result<RawArg, FilterError> {
        self.skip_ws();
        let pos = self.pos;
        let kind = match self.peek() {
            Some('\'') => RawKind::Quoted(self.parse_string()?),
            Some('[') if allow_set => RawKind::Set(self.parse_set()?),
            Some('[') => {
                return Err(FilterError::at(pos, "sets '[...]' cannot be nested"));
            }
            None | Some(',' | ')' | ']' | '(') => {
                return Err(FilterError::at(
                    pos,
                    format!("expected a value but found {}", self.found(pos)),
                ));
            }
            Some(_) => {
                while self.peek().is_some_and(|c| !ends_bare(c)) {
                    self.pos += 1;
                }
                RawKind::Bare(
                    self.chars
                        .get(pos..self.pos)
                        .unwrap_or_default()
                        .iter()
                        .collect(),
                )
            }
        };
        Ok(RawArg { pos, kind })
    }

    /// A single-quoted string with `''` for a quote, `self.pos` at the quote.
    fn parse_string(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(FilterError::at(
                        open,
                        "unterminated string literal (no closing single quote)",
                    ));
                }
                Some('\'') => {
                    self.pos += 1;
                    if self.peek() == Some('\'') {
                        text.push('\'');
                        self.pos += 1;
                    } else {
                        return Ok(text);
                    }
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `[value {, value}]`, with `self.pos` at the `[`.
    fn parse_set(&mut self) -> Result<Vec<RawArg>, FilterError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(']') {
            return Err(FilterError::at(
                open,
                "empty set '[]' (a set needs at least one value)",
            ));
        }
        let mut items = Vec::new();
        loop {
            items.push(self.parse_arg(false)?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                None => {
                    return Err(FilterError::at(
                        self.pos,
                        format!("missing ']' to close the set opened at position {open}"),
                    ));
                }
                Some(c) => {
                    return Err(FilterError::at(
                        self.pos,
                        format!("expected ',' or ']' in a set but found '{c}'"),
                    ));
                }
            }
        }
    }
}

/// Checks one scalar argument against the property's type.
fn convert(arg: &RawArg, prop: &Property, func: Func) -> Result<Operand, FilterError> {
    let wrong_type = |written: &str, kind: &str| {
        let hint = match prop.ty {
            PropType::String => " (string values must be enclosed in single quotes)".to_owned(),
            ty if kind == "STRING" => format!(" ({ty} values are written without quotes)"),
            _ => String::new(),
        };
        FilterError::at(
            arg.pos,
            format!(
                "property '{}' is of type {}, but the argument {written} is {} {kind}{hint}",
                prop.name,
                prop.ty,
                if kind == "INTEGER" { "an" } else { "a" }
            ),
        )
    };
    match &arg.kind {
        RawKind::Quoted(text) => match prop.ty {
            PropType::String if func == Func::Like => Ok(Operand::Pattern(compile_pattern(text))),
            PropType::String => Ok(Operand::String(text.clone())),
            _ => Err(wrong_type(
                &format!("'{}'", text.replace('\'', "''")),
                "STRING",
            )),
        },
        RawKind::Bare(text) => match (prop.ty, classify(text)) {
            (PropType::Integer, Some(Bare::Integer(i))) => Ok(Operand::Integer(i)),
            (PropType::Boolean, Some(Bare::Boolean(b))) => Ok(Operand::Boolean(b)),
            (PropType::Uuid, Some(Bare::Uuid(u))) => Ok(Operand::Uuid(u)),
            (PropType::Timestamp, Some(Bare::Timestamp(t))) => Ok(Operand::Timestamp(t)),
            (_, Some(other)) => Err(wrong_type(text, other.kind())),
            (ty, None) => {
                let detail = if text == "null" {
                    " ('null' is not a value: use isNull() or isNotNull())".to_owned()
                } else if ty == PropType::String {
                    " (string values must be enclosed in single quotes)".to_owned()
                } else if ty == PropType::Integer
                    && is_all_digits(text.strip_prefix('-').unwrap_or(text))
                {
                    " (out of range)".to_owned()
                } else {
                    String::new()
                };
                Err(FilterError::at(
                    arg.pos,
                    format!(
                        "invalid value '{text}' for {ty} property '{}'{detail}",
                        prop.name
                    ),
                ))
            }
        },
        RawKind::Set(_) => Err(FilterError::at(arg.pos, "sets '[...]' cannot be nested")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SITE_A: &str = "1a2b3c4d-0000-4000-8000-00000000000a";
    const SITE_B: &str = "1a2b3c4d-0000-4000-8000-00000000000b";

    fn site(id: &str, name: &str, reference: Option<&str>) -> Value {
        json!({"id": id, "internalReference": reference, "name": name})
    }

    fn sites() -> Vec<Value> {
        vec![
            site(SITE_A, "Default", Some("default")),
            site(SITE_B, "Branch Office", Some("branch")),
            site("1a2b3c4d-0000-4000-8000-00000000000c", "lab", None),
        ]
    }

    fn names(filter: &str, items: &[Value], properties: &[Property], key: &str) -> Vec<String> {
        let filter = Filter::parse(filter, properties)
            .unwrap_or_else(|e| panic!("{filter:?} should parse: {e}"));
        items
            .iter()
            .filter(|item| filter.matches(item))
            .map(|item| item[key].as_str().unwrap_or("?").to_owned())
            .collect()
    }

    fn site_names(filter: &str) -> Vec<String> {
        names(filter, &sites(), SITE_PROPERTIES, "name")
    }

    fn matches(filter: &str, properties: &[Property], item: &Value) -> bool {
        Filter::parse(filter, properties)
            .unwrap_or_else(|e| panic!("{filter:?} should parse: {e}"))
            .matches(item)
    }

    fn dns(item: &Value, filter: &str) -> bool {
        matches(filter, DNS_POLICY_PROPERTIES, item)
    }

    fn client(item: &Value, filter: &str) -> bool {
        matches(filter, CLIENT_PROPERTIES, item)
    }

    fn err(filter: &str, properties: &[Property]) -> FilterError {
        match Filter::parse(filter, properties) {
            Ok(parsed) => panic!("{filter:?} should be rejected, parsed as {parsed:?}"),
            Err(e) => e,
        }
    }

    /// Asserts the error names the problem (all of `needles`) and, when
    /// given, its position.
    fn assert_err(
        filter: &str,
        properties: &[Property],
        position: Option<usize>,
        needles: &[&str],
    ) {
        let e = err(filter, properties);
        let text = e.to_string();
        for needle in needles {
            assert!(
                text.contains(needle),
                "{filter:?}: {text:?} should contain {needle:?}"
            );
        }
        if let Some(position) = position {
            assert_eq!(e.position(), Some(position), "{filter:?}: {text}");
            assert!(
                text.starts_with(&format!("Invalid filter at position {position}: ")),
                "{text}"
            );
        }
    }

    fn srv_record() -> Value {
        json!({
            "type": "SRV_RECORD",
            "id": "5f1a7f6e-0000-4000-8000-000000000001",
            "enabled": true,
            "domain": "_sip._tcp.example.com",
            "serverDomain": "sip.example.com",
            "ttlSeconds": 3600,
            "priority": 10,
            "port": 5060,
            "weight": 0,
            "service": "_sip",
            "protocol": "_tcp"
        })
    }

    fn a_record(domain: &str, ip: &str, ttl: i64) -> Value {
        json!({
            "type": "A_RECORD",
            "id": "5f1a7f6e-0000-4000-8000-000000000002",
            "enabled": false,
            "domain": domain,
            "ipv4Address": ip,
            "ttlSeconds": ttl
        })
    }

    fn wired_client() -> Value {
        json!({
            "type": "WIRED",
            "id": "0b1c2d3e-0000-4000-8000-000000000001",
            "name": "nas",
            "connectedAt": "2026-08-20T04:14:55Z",
            "ipAddress": "192.168.1.10",
            "macAddress": "aa:bb:cc:dd:ee:ff",
            "access": {"type": "DEFAULT"}
        })
    }

    fn guest_client() -> Value {
        json!({
            "type": "WIRELESS",
            "id": "0b1c2d3e-0000-4000-8000-000000000002",
            "connectedAt": "2026-08-21T10:00:00.250+02:00",
            "ipAddress": null,
            "macAddress": "11:22:33:44:55:66",
            "access": {"type": "GUEST", "authorized": true}
        })
    }

    // ---- string properties ----

    #[test]
    fn string_eq_is_exact_and_case_sensitive() {
        assert_eq!(site_names("name.eq('Default')"), ["Default"]);
        assert!(site_names("name.eq('default')").is_empty());
        assert!(site_names("name.eq('Default ')").is_empty());
        assert!(site_names("name.eq('Def')").is_empty());
        assert_eq!(
            site_names("internalReference.eq('branch')"),
            ["Branch Office"]
        );
    }

    #[test]
    fn string_ne() {
        assert_eq!(site_names("name.ne('Default')"), ["Branch Office", "lab"]);
        assert_eq!(
            site_names("name.ne('DEFAULT')"),
            ["Default", "Branch Office", "lab"]
        );
    }

    #[test]
    fn string_in_and_not_in() {
        assert_eq!(site_names("name.in('lab')"), ["lab"]);
        assert_eq!(
            site_names("name.in('lab', 'Default', 'nope')"),
            ["Default", "lab"]
        );
        assert_eq!(
            site_names("name.notIn('lab')"),
            ["Default", "Branch Office"]
        );
        assert_eq!(site_names("name.notIn('lab','Default')"), ["Branch Office"]);
        assert!(site_names("name.notIn('lab','Default','Branch Office')").is_empty());
    }

    #[test]
    fn set_form_of_in_and_not_in() {
        assert_eq!(
            site_names("name.in(['lab', 'Default'])"),
            ["Default", "lab"]
        );
        assert_eq!(site_names("name.in(['lab'])"), ["lab"]);
        assert_eq!(
            site_names("name.notIn( [ 'lab' , 'Default' ] )"),
            ["Branch Office"]
        );
        let item = srv_record();
        assert!(dns(&item, "port.in([53, 5060])"));
        assert!(!dns(&item, "port.notIn([53,5060])"));
        assert!(dns(&item, "port.notIn([53])"));
    }

    #[test]
    fn quoted_strings_with_doubled_quotes_commas_and_parentheses() {
        let items = vec![
            json!({"name": "Hello, 'World'!"}),
            json!({"name": "a(b)c"}),
            json!({"name": "it's"}),
            json!({"name": "'"}),
            json!({"name": ""}),
            json!({"name": "and(x.eq(1), y)"}),
        ];
        let n = |f: &str| names(f, &items, SITE_PROPERTIES, "name");
        assert_eq!(n("name.eq('Hello, ''World''!')"), ["Hello, 'World'!"]);
        assert_eq!(n("name.eq('a(b)c')"), ["a(b)c"]);
        assert_eq!(n("name.eq('it''s')"), ["it's"]);
        assert_eq!(n("name.eq('''')"), ["'"]);
        assert_eq!(n("name.eq('')"), [""]);
        assert_eq!(n("name.eq('and(x.eq(1), y)')"), ["and(x.eq(1), y)"]);
        assert_eq!(n("name.in('a(b)c', 'it''s', ',')"), ["a(b)c", "it's"]);
        assert_eq!(n("name.in(['a(b)c', ']', '['])"), ["a(b)c"]);
        assert_eq!(
            n("or(name.eq(')'), name.eq('it''s'), name.eq('a(b)c'))"),
            ["a(b)c", "it's"]
        );
    }

    #[test]
    fn strings_keep_unicode_and_whitespace_inside_quotes() {
        let items = vec![json!({"name": "  Café ☕  "}), json!({"name": "Cafe"})];
        let n = |f: &str| names(f, &items, SITE_PROPERTIES, "name");
        assert_eq!(n("name.eq('  Café ☕  ')"), ["  Café ☕  "]);
        assert!(n("name.eq('café ☕')").is_empty());
    }

    // ---- like ----

    fn like(pattern: &str, text: &str) -> bool {
        let filter = format!("domain.like('{}')", pattern.replace('\'', "''"));
        dns(&json!({"domain": text}), &filter)
    }

    #[test]
    fn like_star_matches_any_run_including_empty() {
        assert!(like("*.example.com", "www.example.com"));
        assert!(like("*", ""));
        assert!(like("*", "anything at all"));
        assert!(like("abc*", "abc"));
        assert!(like("*abc", "abc"));
        assert!(like("a*c", "ac"));
        assert!(like("a*c", "abbbbc"));
        assert!(!like("a*c", "abcd"));
        assert!(like("a*b*c", "aXbYbZc"));
        assert!(like("*a*a*a*", "banana a"));
        assert!(!like("*a*a*a*a*", "banana"));
        assert!(like("**", "x"));
        assert!(like("a**b", "ab"));
    }

    #[test]
    fn like_dot_matches_exactly_one_character() {
        assert!(like("h.t", "hat"));
        assert!(like("h.t", "h.t"));
        assert!(!like("h.t", "ht"));
        assert!(!like("h.t", "heat"));
        assert!(like("...", "abc"));
        assert!(!like("...", "ab"));
        assert!(like("caf.", "café"));
        assert!(like(".", "☕"));
        assert!(like(".*", "x"));
        assert!(!like(".*", ""));
    }

    #[test]
    fn like_is_anchored_and_case_sensitive() {
        assert!(!like("example", "www.example.com"));
        assert!(!like("www", "www.example.com"));
        assert!(!like("WWW.*", "www.example.com"));
        assert!(like("", ""));
        assert!(!like("", "x"));
    }

    #[test]
    fn like_escapes() {
        assert!(like(r"a\.b", "a.b"));
        assert!(!like(r"a\.b", "axb"));
        assert!(like(r"a\*b", "a*b"));
        assert!(!like(r"a\*b", "aXXb"));
        assert!(!like(r"a\*b", "ab"));
        assert!(like(r"a\\b", r"a\b"));
        assert!(!like(r"a\\b", r"a\\b"));
        assert!(like(r"a\\*", r"a\anything"));
        assert!(like(r"\*.example.com", "*.example.com"));
        assert!(!like(r"\*.example.com", "www.example.com"));
        // A backslash before anything else stands for itself.
        assert!(like(r"a\b", r"a\b"));
        assert!(like(r"a\", r"a\"));
        assert!(!like(r"a\", "a"));
    }

    #[test]
    fn like_percent_and_underscore_are_literal() {
        assert!(like("100%", "100%"));
        assert!(!like("100%", "1000"));
        assert!(!like("%example%", "www.example.com"));
        assert!(like("%example%", "%example%"));
        assert!(!like("a_c", "abc"));
        assert!(like("a_c", "a_c"));
    }

    #[test]
    fn like_on_dns_string_properties() {
        let item = a_record("nas.home.arpa", "192.168.1.10", 300);
        assert!(dns(&item, "ipv4Address.like('192.168.1.*')"));
        assert!(!dns(&item, "ipv4Address.like('10.*')"));
        assert!(dns(&item, "domain.like('*.home.arpa')"));
        assert!(
            !dns(&item, "ipv6Address.like('*')"),
            "missing property never matches like"
        );
        assert!(dns(&json!({"text": "v=spf1 -all"}), "text.like('v=spf1*')"));
        for property in [
            "domain",
            "ipv4Address",
            "ipv6Address",
            "targetDomain",
            "mailServerDomain",
            "text",
            "serverDomain",
            "ipAddress",
        ] {
            let item = json!({ property: "x.example" });
            assert!(
                dns(&item, &format!("{property}.like('*.example')")),
                "{property}"
            );
            assert!(
                !dns(&item, &format!("{property}.like('*.other')")),
                "{property}"
            );
        }
    }

    #[test]
    fn like_on_non_string_value_is_false() {
        assert!(!dns(&json!({"domain": 5}), "domain.like('*')"));
        assert!(!dns(&json!({"domain": ["a"]}), "domain.like('*')"));
    }

    #[test]
    fn like_pathological_pattern_is_fast() {
        let text = "a".repeat(2000);
        let pattern = format!("{}b", "*a".repeat(500));
        assert!(!like(&pattern, &text));
        assert!(like(&"*a".repeat(500), &text));
    }

    // ---- integers ----

    #[test]
    fn integer_comparisons() {
        let item = srv_record();
        assert!(dns(&item, "ttlSeconds.eq(3600)"));
        assert!(!dns(&item, "ttlSeconds.eq(3601)"));
        assert!(dns(&item, "ttlSeconds.ne(3601)"));
        assert!(!dns(&item, "ttlSeconds.ne(3600)"));
        assert!(dns(&item, "priority.gt(9)"));
        assert!(!dns(&item, "priority.gt(10)"));
        assert!(dns(&item, "priority.ge(10)"));
        assert!(!dns(&item, "priority.ge(11)"));
        assert!(dns(&item, "port.lt(5061)"));
        assert!(!dns(&item, "port.lt(5060)"));
        assert!(dns(&item, "port.le(5060)"));
        assert!(!dns(&item, "port.le(5059)"));
        assert!(dns(&item, "weight.eq(0)"));
        assert!(dns(&item, "weight.in(0)"));
        assert!(dns(&item, "weight.in(5, 0, 7)"));
        assert!(!dns(&item, "weight.in(5, 7)"));
        assert!(dns(&item, "weight.notIn(5, 7)"));
        assert!(!dns(&item, "weight.notIn(0)"));
    }

    #[test]
    fn integer_literals_negative_and_leading_zeros() {
        let item = srv_record();
        assert!(dns(&item, "weight.gt(-1)"));
        assert!(dns(&item, "weight.ge(-0)"));
        assert!(dns(&item, "priority.eq(0010)"));
        assert!(dns(&json!({"weight": -5}), "weight.lt(-4)"));
        assert!(dns(&json!({"weight": -5}), "weight.eq(-5)"));
        assert!(dns(
            &json!({"weight": i64::MIN}),
            &format!("weight.eq({})", i64::MIN)
        ));
        assert!(dns(
            &json!({"weight": i64::MAX}),
            &format!("weight.eq({})", i64::MAX)
        ));
    }

    #[test]
    fn integers_compare_numerically_with_any_json_number() {
        assert!(dns(&json!({"port": 53.0}), "port.eq(53)"));
        assert!(dns(&json!({"port": 53.5}), "port.gt(53)"));
        assert!(dns(&json!({"port": 53.5}), "port.lt(54)"));
        assert!(dns(
            &json!({"port": u64::MAX}),
            "port.gt(9223372036854775807)"
        ));
        // 9 < 10 numerically even though '9' > '10' as text.
        assert!(dns(&json!({"port": 9}), "port.lt(10)"));
    }

    #[test]
    fn integer_against_non_number_value() {
        let item = json!({"port": "53"});
        assert!(!dns(&item, "port.eq(53)"));
        assert!(dns(&item, "port.ne(53)"));
        assert!(!dns(&item, "port.gt(1)"));
        assert!(!dns(&item, "port.le(100)"));
        assert!(!dns(&item, "port.in(53)"));
        assert!(dns(&item, "port.notIn(53)"));
    }

    // ---- booleans ----

    #[test]
    fn boolean_eq_and_ne() {
        let on = srv_record();
        let off = a_record("a.example", "10.0.0.1", 60);
        assert!(dns(&on, "enabled.eq(true)"));
        assert!(!dns(&on, "enabled.eq(false)"));
        assert!(dns(&on, "enabled.ne(false)"));
        assert!(!dns(&on, "enabled.ne(true)"));
        assert!(dns(&off, "enabled.eq(false)"));
        assert!(dns(&off, "enabled.ne(true)"));
        assert!(!dns(&json!({"enabled": "true"}), "enabled.eq(true)"));
    }

    #[test]
    fn boolean_nullable_access_authorized() {
        let guest = guest_client();
        let wired = wired_client();
        assert!(client(&guest, "access.authorized.eq(true)"));
        assert!(client(&guest, "access.authorized.isNotNull()"));
        assert!(!client(&guest, "access.authorized.isNull()"));
        assert!(!client(&guest, "access.authorized.ne(true)"));
        assert!(client(&wired, "access.authorized.isNull()"));
        assert!(!client(&wired, "access.authorized.eq(true)"));
        assert!(!client(&wired, "access.authorized.eq(false)"));
        assert!(client(&wired, "access.authorized.ne(true)"));
        assert!(client(&wired, "access.authorized.ne(false)"));
    }

    // ---- UUIDs ----

    #[test]
    fn uuid_eq_is_case_insensitive() {
        assert_eq!(site_names(&format!("id.eq({SITE_A})")), ["Default"]);
        assert_eq!(
            site_names(&format!("id.eq({})", SITE_A.to_uppercase())),
            ["Default"]
        );
        let upper_items = vec![json!({"id": SITE_B.to_uppercase(), "name": "B"})];
        assert_eq!(
            names(
                &format!("id.eq({SITE_B})"),
                &upper_items,
                SITE_PROPERTIES,
                "name"
            ),
            ["B"]
        );
    }

    #[test]
    fn uuid_ne_in_not_in() {
        assert_eq!(
            site_names(&format!("id.ne({SITE_A})")),
            ["Branch Office", "lab"]
        );
        assert_eq!(site_names(&format!("id.in({SITE_A})")), ["Default"]);
        assert_eq!(
            site_names(&format!("id.in({SITE_A}, {SITE_B})")),
            ["Default", "Branch Office"]
        );
        assert_eq!(
            site_names(&format!("id.in([{SITE_A},{SITE_B}])")),
            ["Default", "Branch Office"]
        );
        assert_eq!(
            site_names(&format!("id.notIn({SITE_A}, {SITE_B})")),
            ["lab"]
        );
    }

    #[test]
    fn uuid_against_unparseable_value() {
        let item = json!({"id": "not-a-uuid", "name": "x"});
        let f = format!("id.eq({SITE_A})");
        assert!(!matches(&f, SITE_PROPERTIES, &item));
        assert!(matches(&format!("id.ne({SITE_A})"), SITE_PROPERTIES, &item));
        assert!(matches(
            &format!("id.notIn({SITE_A})"),
            SITE_PROPERTIES,
            &item
        ));
    }

    #[test]
    fn uuid_literal_starting_with_a_letter_or_digits() {
        let letter = "abcdef01-2345-4678-89ab-cdef01234567";
        let digits = "12345678-1234-4234-8234-123456789012";
        let items = vec![
            json!({"id": letter, "name": "L"}),
            json!({"id": digits, "name": "D"}),
        ];
        let n = |f: &str| names(f, &items, SITE_PROPERTIES, "name");
        assert_eq!(n(&format!("id.eq({letter})")), ["L"]);
        assert_eq!(n(&format!("id.eq({digits})")), ["D"]);
        assert_eq!(n(&format!("id.in({digits}, {letter})")), ["L", "D"]);
    }

    // ---- timestamps ----

    #[test]
    fn timestamp_comparisons() {
        let wired = wired_client(); // 2026-08-20T04:14:55Z
        assert!(client(&wired, "connectedAt.eq(2026-08-20T04:14:55Z)"));
        assert!(!client(&wired, "connectedAt.eq(2026-08-20T04:14:56Z)"));
        assert!(client(&wired, "connectedAt.ne(2026-08-20T04:14:56Z)"));
        assert!(client(&wired, "connectedAt.gt(2026-08-20T04:14:54Z)"));
        assert!(!client(&wired, "connectedAt.gt(2026-08-20T04:14:55Z)"));
        assert!(client(&wired, "connectedAt.ge(2026-08-20T04:14:55Z)"));
        assert!(client(&wired, "connectedAt.lt(2026-08-20T04:14:56Z)"));
        assert!(!client(&wired, "connectedAt.lt(2026-08-20T04:14:55Z)"));
        assert!(client(&wired, "connectedAt.le(2026-08-20T04:14:55Z)"));
        assert!(!client(&wired, "connectedAt.le(2026-08-20T04:14:54Z)"));
    }

    #[test]
    fn timestamp_date_literal_is_midnight_utc() {
        let wired = wired_client(); // 2026-08-20T04:14:55Z
        assert!(client(&wired, "connectedAt.gt(2026-08-20)"));
        assert!(client(&wired, "connectedAt.lt(2026-08-21)"));
        assert!(!client(&wired, "connectedAt.eq(2026-08-20)"));
        assert!(client(
            &wired,
            "and(connectedAt.ge(2026-08-20), connectedAt.lt(2026-08-21))"
        ));
        let midnight = json!({"connectedAt": "2026-08-20T00:00:00Z"});
        assert!(client(&midnight, "connectedAt.eq(2026-08-20)"));
        assert!(client(&midnight, "connectedAt.ge(2026-08-20)"));
        assert!(!client(&midnight, "connectedAt.gt(2026-08-20)"));
        let plus_two = json!({"connectedAt": "2026-08-20T01:00:00+02:00"});
        assert!(client(&plus_two, "connectedAt.lt(2026-08-20)"));
    }

    #[test]
    fn timestamps_compare_as_instants_across_offsets() {
        let wired = wired_client(); // 2026-08-20T04:14:55Z
        assert!(client(&wired, "connectedAt.eq(2026-08-20T06:14:55+02:00)"));
        assert!(client(&wired, "connectedAt.eq(2026-08-19T23:14:55-05:00)"));
        assert!(client(&wired, "connectedAt.eq(2026-08-20T04:14:55+00:00)"));
        assert!(client(&wired, "connectedAt.eq(2026-08-20T04:14:55.000Z)"));
        assert!(client(&wired, "connectedAt.gt(2026-08-20T06:14:54+02:00)"));
        let guest = guest_client(); // 2026-08-21T10:00:00.250+02:00
        assert!(client(&guest, "connectedAt.eq(2026-08-21T08:00:00.25Z)"));
        assert!(client(&guest, "connectedAt.gt(2026-08-21T08:00:00Z)"));
        assert!(client(&guest, "connectedAt.lt(2026-08-21T08:00:01Z)"));
    }

    #[test]
    fn timestamp_literal_variants() {
        let wired = wired_client(); // 2026-08-20T04:14:55Z
        // No offset means UTC.
        assert!(client(&wired, "connectedAt.eq(2026-08-20T04:14:55)"));
        // Seconds may be left out.
        assert!(client(&wired, "connectedAt.gt(2026-08-20T04:14Z)"));
        assert!(client(&wired, "connectedAt.lt(2026-08-20T04:15Z)"));
        // Lower-case separators.
        assert!(client(&wired, "connectedAt.eq(2026-08-20t04:14:55z)"));
        let no_offset_value = json!({"connectedAt": "2026-08-20T04:14:55"});
        assert!(client(
            &no_offset_value,
            "connectedAt.eq(2026-08-20T04:14:55Z)"
        ));
    }

    #[test]
    fn timestamp_against_unparseable_value() {
        let item = json!({"connectedAt": "yesterday"});
        assert!(!client(&item, "connectedAt.eq(2026-08-20)"));
        assert!(!client(&item, "connectedAt.gt(2026-08-20)"));
        assert!(!client(&item, "connectedAt.lt(2026-08-20)"));
        assert!(client(&item, "connectedAt.ne(2026-08-20)"));
        assert!(client(&item, "connectedAt.isNotNull()"));
        let number = json!({"connectedAt": 1_787_199_295});
        assert!(!client(&number, "connectedAt.ge(2026-08-20)"));
    }

    #[test]
    fn client_string_and_uuid_properties() {
        let wired = wired_client();
        let guest = guest_client();
        assert!(client(&wired, "type.eq('WIRED')"));
        assert!(client(&guest, "type.in('WIRED', 'WIRELESS', 'VPN')"));
        assert!(client(&wired, "type.notIn('WIRELESS', 'VPN')"));
        assert!(client(&guest, "type.ne('WIRED')"));
        assert!(client(&wired, "ipAddress.eq('192.168.1.10')"));
        assert!(client(&wired, "ipAddress.in(['192.168.1.10', '10.0.0.1'])"));
        assert!(!client(&wired, "ipAddress.notIn('192.168.1.10')"));
        assert!(client(&wired, "ipAddress.isNotNull()"));
        assert!(client(&guest, "ipAddress.isNull()"));
        assert!(client(&wired, "macAddress.eq('aa:bb:cc:dd:ee:ff')"));
        assert!(
            !client(&wired, "macAddress.eq('AA:BB:CC:DD:EE:FF')"),
            "strings are case-sensitive"
        );
        assert!(client(&guest, "macAddress.ne('aa:bb:cc:dd:ee:ff')"));
        assert!(client(
            &wired,
            "id.eq(0B1C2D3E-0000-4000-8000-000000000001)"
        ));
        assert!(client(
            &guest,
            "id.notIn(0b1c2d3e-0000-4000-8000-000000000001)"
        ));
        assert!(client(
            &wired,
            "and(ipAddress.isNotNull(), not(access.type.eq('GUEST')))"
        ));
    }

    #[test]
    fn dns_string_uuid_and_boolean_properties() {
        let srv = srv_record();
        let a = a_record("nas.home.arpa", "192.168.1.10", 300);
        assert!(dns(&srv, "type.eq('SRV_RECORD')"));
        assert!(dns(&a, "type.in('A_RECORD', 'AAAA_RECORD')"));
        assert!(dns(&a, "type.notIn('SRV_RECORD')"));
        assert!(dns(&srv, "service.eq('_sip')"));
        assert!(dns(&srv, "protocol.in('_tcp', '_udp')"));
        assert!(dns(&srv, "serverDomain.ne('x')"));
        assert!(dns(&srv, "id.eq(5f1a7f6e-0000-4000-8000-000000000001)"));
        assert!(dns(&a, "id.ne(5f1a7f6e-0000-4000-8000-000000000001)"));
        assert!(dns(&a, "domain.eq('nas.home.arpa')"));
        assert!(dns(
            &a,
            "and(enabled.eq(false), ttlSeconds.lt(3600), ipv4Address.in('192.168.1.10'))"
        ));
        assert!(!dns(&a, "or(enabled.eq(true), ttlSeconds.gt(3600))"));
    }

    // ---- null and missing properties ----

    #[test]
    fn null_and_missing_semantics() {
        let missing = json!({"type": "WIRED"});
        let null = json!({"type": "WIRED", "ipAddress": null, "connectedAt": null});
        for item in [&missing, &null] {
            assert!(client(item, "ipAddress.isNull()"));
            assert!(!client(item, "ipAddress.isNotNull()"));
            assert!(!client(item, "ipAddress.eq('1.2.3.4')"));
            assert!(client(item, "ipAddress.ne('1.2.3.4')"));
            assert!(!client(item, "ipAddress.in('1.2.3.4', '5.6.7.8')"));
            assert!(client(item, "ipAddress.notIn('1.2.3.4')"));
            assert!(!client(item, "connectedAt.gt(2000-01-01)"));
            assert!(!client(item, "connectedAt.ge(2000-01-01)"));
            assert!(!client(item, "connectedAt.lt(2100-01-01)"));
            assert!(!client(item, "connectedAt.le(2100-01-01)"));
            assert!(client(item, "connectedAt.isNull()"));
            assert!(!dns(item, "domain.like('*')"));
            assert!(!dns(item, "port.eq(1)"));
            assert!(dns(item, "port.ne(1)"));
            assert!(dns(item, "not(port.gt(1))"));
        }
    }

    #[test]
    fn present_values_are_not_null() {
        let item = guest_client();
        assert!(client(&item, "macAddress.isNotNull()"));
        assert!(!client(&item, "macAddress.isNull()"));
        assert!(client(&item, "connectedAt.isNotNull()"));
        let empty = json!({"macAddress": ""});
        assert!(
            client(&empty, "macAddress.isNotNull()"),
            "an empty string is not null"
        );
        assert!(client(&empty, "macAddress.eq('')"));
    }

    #[test]
    fn string_against_non_string_value() {
        let item = json!({"name": 5});
        assert!(!matches("name.eq('5')", SITE_PROPERTIES, &item));
        assert!(matches("name.ne('5')", SITE_PROPERTIES, &item));
        assert!(matches("name.notIn('5')", SITE_PROPERTIES, &item));
    }

    // ---- dotted paths ----

    #[test]
    fn dotted_access_type() {
        let wired = wired_client();
        let guest = guest_client();
        assert!(client(&wired, "access.type.eq('DEFAULT')"));
        assert!(!client(&guest, "access.type.eq('DEFAULT')"));
        assert!(client(&guest, "access.type.in('GUEST', 'X')"));
        assert!(client(&wired, "access.type.notIn('GUEST')"));
        assert!(client(&guest, "access.type.ne('DEFAULT')"));
        assert!(client(&wired, "access . type . eq ( 'DEFAULT' )"));
    }

    #[test]
    fn dotted_path_through_missing_or_non_object() {
        for item in [
            json!({}),
            json!({"access": null}),
            json!({"access": "GUEST"}),
            json!({"access": ["type"]}),
            json!({"access": {}}),
            json!({"access.type": "GUEST"}),
        ] {
            assert!(!client(&item, "access.type.eq('GUEST')"), "{item}");
            assert!(client(&item, "access.type.ne('GUEST')"), "{item}");
            assert!(client(&item, "access.authorized.isNull()"), "{item}");
        }
    }

    #[test]
    fn non_object_items_have_only_null_properties() {
        for item in [json!(null), json!(5), json!("x"), json!([1, 2])] {
            assert!(client(&item, "ipAddress.isNull()"));
            assert!(!client(&item, "type.eq('WIRED')"));
        }
    }

    // ---- compound expressions ----

    #[test]
    fn and_or_not() {
        assert_eq!(
            site_names("and(name.ne('lab'), internalReference.ne('default'))"),
            ["Branch Office"]
        );
        assert_eq!(
            site_names("or(name.eq('lab'), name.eq('Default'))"),
            ["Default", "lab"]
        );
        assert_eq!(
            site_names("not(name.eq('lab'))"),
            ["Default", "Branch Office"]
        );
        assert_eq!(
            site_names("or(name.eq('lab'), name.eq('Default'), name.eq('Branch Office'))"),
            ["Default", "Branch Office", "lab"]
        );
        assert!(site_names("and(name.eq('lab'), name.eq('Default'), name.ne('x'))").is_empty());
    }

    #[test]
    fn nested_compounds() {
        assert_eq!(
            site_names(
                "or(and(name.eq('Default'), internalReference.eq('default')), \
                 not(or(name.eq('Default'), name.eq('lab'))))"
            ),
            ["Default", "Branch Office"]
        );
        assert_eq!(site_names("not(not(name.eq('lab')))"), ["lab"]);
        assert_eq!(
            site_names("and(not(name.eq('lab')), or(name.eq('lab'), name.in('Default')))"),
            ["Default"]
        );
        let guest = guest_client();
        assert!(client(
            &guest,
            "and(type.eq('WIRELESS'), or(access.type.eq('GUEST'), ipAddress.isNotNull()), \
             not(connectedAt.lt(2026-01-01)))"
        ));
    }

    #[test]
    fn whitespace_around_tokens() {
        assert_eq!(
            site_names("  or (\n\tname . eq ( 'lab' ) ,\r\n name.in ( 'Default' , 'x' ) )  "),
            ["Default", "lab"]
        );
        assert_eq!(site_names(" name.in( [ 'lab' ] ) "), ["lab"]);
        assert_eq!(
            site_names("not ( name.eq('lab') )"),
            ["Default", "Branch Office"]
        );
        let item = srv_record();
        assert!(dns(&item, "port.in( 53 ,5060 )"));
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        let depth = MAX_NESTING_DEPTH;
        let filter = format!(
            "{}name.eq('lab'){}",
            "not(".repeat(depth),
            ")".repeat(depth)
        );
        let expected: &[&str] = if depth.is_multiple_of(2) {
            &["lab"]
        } else {
            &["Default", "Branch Office"]
        };
        assert_eq!(site_names(&filter), expected);
        let filter = format!(
            "{}or(name.eq('lab'), name.eq('x')){}",
            "and(name.ne('zz'), ".repeat(depth - 1),
            ")".repeat(depth - 1)
        );
        assert_eq!(site_names(&filter), ["lab"]);
    }

    // ---- the property tables ----

    #[test]
    fn tables_respect_the_type_rules_and_have_unique_names() {
        for table in [SITE_PROPERTIES, DNS_POLICY_PROPERTIES, CLIENT_PROPERTIES] {
            for (i, prop) in table.iter().enumerate() {
                assert!(!prop.functions.is_empty(), "{}", prop.name);
                for func in prop.functions {
                    assert!(func.applies_to(prop.ty), "{} {}", prop.name, func);
                    assert!(prop.allows(*func));
                }
                assert!(
                    table
                        .iter()
                        .skip(i + 1)
                        .all(|other| other.name != prop.name),
                    "{} listed twice",
                    prop.name
                );
            }
        }
        assert_eq!(SITE_PROPERTIES.len(), 3);
        assert_eq!(DNS_POLICY_PROPERTIES.len(), 17);
        assert_eq!(CLIENT_PROPERTIES.len(), 7);
    }

    #[test]
    fn every_allowed_function_parses_on_every_property() {
        fn sample(ty: PropType) -> &'static str {
            match ty {
                PropType::String => "'x'",
                PropType::Integer => "1",
                PropType::Boolean => "true",
                PropType::Uuid => "1a2b3c4d-0000-4000-8000-00000000000a",
                PropType::Timestamp => "2026-08-20T04:14:55Z",
            }
        }
        for table in [SITE_PROPERTIES, DNS_POLICY_PROPERTIES, CLIENT_PROPERTIES] {
            for prop in table {
                for func in Func::ALL {
                    let v = sample(prop.ty);
                    let filter = match func.arity() {
                        Arity::Zero => format!("{}.{func}()", prop.name),
                        Arity::One => format!("{}.{func}({v})", prop.name),
                        Arity::AtLeastOne => format!("{}.{func}({v}, {v})", prop.name),
                    };
                    let result = Filter::parse(&filter, table);
                    if prop.functions.contains(&func) {
                        let parsed = result.unwrap_or_else(|e| panic!("{filter}: {e}"));
                        // Evaluating never panics, whatever the item.
                        parsed.matches(&json!({}));
                        parsed.matches(&wired_client());
                    } else {
                        let e = result.err().unwrap_or_else(|| panic!("{filter} accepted"));
                        assert!(
                            e.message().contains(&format!(
                                "function '{func}' is not allowed on property '{}'",
                                prop.name
                            )),
                            "{filter}: {e}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn func_names_round_trip() {
        for func in Func::ALL {
            assert_eq!(Func::from_name(func.name()), Some(func));
            assert_eq!(func.to_string(), func.name());
        }
        assert_eq!(Func::from_name("EQ"), None);
        assert_eq!(Func::from_name("notin"), None);
        assert_eq!(PropType::Timestamp.to_string(), "TIMESTAMP");
    }

    // ---- errors: whole filter ----

    #[test]
    fn empty_filter_is_an_error() {
        for input in ["", "   ", "\t\n "] {
            let e = err(input, SITE_PROPERTIES);
            assert_eq!(e.to_string(), "Invalid filter: filter must not be empty");
            assert_eq!(e.position(), None);
        }
    }

    #[test]
    fn too_long_filter_is_an_error() {
        let long = format!("name.eq('{}')", "x".repeat(MAX_FILTER_LENGTH));
        assert_err(&long, SITE_PROPERTIES, None, &["too long", "4096"]);
        let exactly = format!("name.eq('{}')", "é".repeat(MAX_FILTER_LENGTH - 11));
        assert_eq!(exactly.chars().count(), MAX_FILTER_LENGTH);
        assert!(Filter::parse(&exactly, SITE_PROPERTIES).is_ok());
        let spaces = " ".repeat(MAX_FILTER_LENGTH + 1);
        assert_err(&spaces, SITE_PROPERTIES, None, &["too long"]);
    }

    #[test]
    fn too_deep_nesting_is_an_error() {
        let depth = MAX_NESTING_DEPTH + 1;
        let filter = format!(
            "{}name.eq('lab'){}",
            "not(".repeat(depth),
            ")".repeat(depth)
        );
        assert_err(
            &filter,
            SITE_PROPERTIES,
            Some(4 * 64),
            &["nested too deeply", "64"],
        );
        // Far deeper, unbalanced: still a clean error rather than a stack overflow.
        let filter = "and(".repeat(1000);
        assert_err(&filter, SITE_PROPERTIES, None, &["nested too deeply"]);
    }

    #[test]
    fn error_display_and_accessors() {
        let e = err("id.like('x')", SITE_PROPERTIES);
        assert_eq!(
            e.to_string(),
            "Invalid filter at position 3: function 'like' is not allowed on property 'id' of \
             type UUID (allowed: eq, ne, in, notIn)"
        );
        assert_eq!(e.position(), Some(3));
        assert!(e.message().starts_with("function 'like'"));
        let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
        assert_eq!(boxed.to_string(), e.to_string());
    }

    // ---- errors: syntax ----

    #[test]
    fn unbalanced_parentheses() {
        assert_err(
            "name.eq('lab'",
            SITE_PROPERTIES,
            Some(13),
            &["missing ')'", "position 7"],
        );
        assert_err(
            "and(name.eq('lab'), name.eq('x')",
            SITE_PROPERTIES,
            Some(32),
            &[
                "unbalanced parentheses",
                "missing ')'",
                "'and'",
                "position 3",
            ],
        );
        assert_err(
            "name.eq('lab'))",
            SITE_PROPERTIES,
            Some(14),
            &["unbalanced parentheses", "unexpected ')'"],
        );
        assert_err(
            "not(name.eq('lab')))",
            SITE_PROPERTIES,
            Some(19),
            &["unbalanced parentheses"],
        );
        assert_err(
            "name.eq(",
            SITE_PROPERTIES,
            Some(8),
            &["expected a value", "end of the filter"],
        );
        assert_err(
            "not(",
            SITE_PROPERTIES,
            Some(4),
            &["expected an expression", "end of the filter"],
        );
        assert_err(
            "(name.eq('lab'))",
            SITE_PROPERTIES,
            Some(0),
            &["expected an expression", "'('"],
        );
    }

    #[test]
    fn unterminated_string() {
        assert_err(
            "name.eq('lab)",
            SITE_PROPERTIES,
            Some(8),
            &["unterminated string"],
        );
        assert_err(
            "name.eq('it''s)",
            SITE_PROPERTIES,
            Some(8),
            &["unterminated string"],
        );
        assert_err(
            "name.in('a', 'b",
            SITE_PROPERTIES,
            Some(13),
            &["unterminated string"],
        );
        assert_err(
            "name.eq(')",
            SITE_PROPERTIES,
            Some(8),
            &["unterminated string"],
        );
    }

    #[test]
    fn trailing_garbage() {
        assert_err(
            "name.eq('lab') x",
            SITE_PROPERTIES,
            Some(15),
            &["unexpected 'x' after the end of the expression"],
        );
        assert_err(
            "name.eq('lab'), name.eq('x')",
            SITE_PROPERTIES,
            Some(14),
            &["unexpected ', name.eq('x')' after the end"],
        );
        assert_err(
            "name.eq('lab')name.eq('x')",
            SITE_PROPERTIES,
            Some(14),
            &["after the end of the expression"],
        );
        assert_err(
            "name.eq('a' 'b')",
            SITE_PROPERTIES,
            Some(12),
            &["expected ',' or ')'", "found '''"],
        );
        assert_err(
            "name.eq('lab') and name.eq('x') or something else",
            SITE_PROPERTIES,
            Some(15),
            &["'and name.eq('x') or ...'"],
        );
    }

    #[test]
    fn empty_arguments() {
        assert_err(
            "name.eq()",
            SITE_PROPERTIES,
            Some(5),
            &["'eq' takes exactly 1 argument, got 0"],
        );
        assert_err(
            "name.in()",
            SITE_PROPERTIES,
            Some(5),
            &["'in' takes at least 1 argument, got 0"],
        );
        assert_err(
            "name.in(   )",
            SITE_PROPERTIES,
            Some(5),
            &["at least 1 argument"],
        );
        assert_err(
            "name.in('a',)",
            SITE_PROPERTIES,
            Some(12),
            &["expected a value but found ')'"],
        );
        assert_err(
            "name.in(,'a')",
            SITE_PROPERTIES,
            Some(8),
            &["expected a value but found ','"],
        );
        assert_err(
            "name.in('a',,'b')",
            SITE_PROPERTIES,
            Some(12),
            &["expected a value but found ','"],
        );
        assert_err(
            "name.in(['a',])",
            SITE_PROPERTIES,
            Some(13),
            &["expected a value but found ']'"],
        );
        assert_err("name.in([])", SITE_PROPERTIES, Some(8), &["empty set"]);
        assert_err("name.in([ ])", SITE_PROPERTIES, Some(8), &["empty set"]);
        assert_err(
            "and(name.eq('a'),)",
            SITE_PROPERTIES,
            Some(17),
            &["expected an expression", "found ')'"],
        );
        assert_err(
            "and()",
            SITE_PROPERTIES,
            Some(0),
            &["'and' takes at least 2 operands, got 0"],
        );
        assert_err(
            "not()",
            SITE_PROPERTIES,
            Some(0),
            &["'not' takes exactly 1 operand, got 0"],
        );
    }

    #[test]
    fn compound_operand_counts() {
        assert_err(
            "and(name.eq('a'))",
            SITE_PROPERTIES,
            Some(0),
            &["'and' takes at least 2 operands, got 1"],
        );
        assert_err(
            "or(name.eq('a'))",
            SITE_PROPERTIES,
            Some(0),
            &["'or' takes at least 2 operands, got 1"],
        );
        assert_err(
            "not(name.eq('a'), name.eq('b'))",
            SITE_PROPERTIES,
            Some(0),
            &["'not' takes exactly 1 operand, got 2"],
        );
        assert_err(
            "or(name.eq('a'), and(name.eq('b')))",
            SITE_PROPERTIES,
            Some(17),
            &["'and' takes at least 2 operands, got 1"],
        );
    }

    #[test]
    fn malformed_expressions() {
        assert_err(
            "xor(name.eq('a'), name.eq('b'))",
            SITE_PROPERTIES,
            Some(0),
            &["unknown operator 'xor'"],
        );
        assert_err(
            "AND(name.eq('a'), name.eq('b'))",
            SITE_PROPERTIES,
            Some(0),
            &["unknown operator 'AND'"],
        );
        assert_err(
            "name",
            SITE_PROPERTIES,
            Some(4),
            &["expected '.<function>(...)' after 'name'"],
        );
        assert_err(
            "and",
            SITE_PROPERTIES,
            Some(3),
            &["expected '.<function>(...)' after 'and'"],
        );
        assert_err(
            "name.eq",
            SITE_PROPERTIES,
            Some(7),
            &["expected '(' after function 'eq'"],
        );
        assert_err(
            "name.eq 'a'",
            SITE_PROPERTIES,
            Some(8),
            &["expected '(' after function 'eq'", "found '''"],
        );
        assert_err(
            "name.",
            SITE_PROPERTIES,
            Some(5),
            &["expected a property or function name after '.'"],
        );
        assert_err(
            "name..eq('a')",
            SITE_PROPERTIES,
            Some(5),
            &["after '.'", "found '.'"],
        );
        assert_err(
            ".eq('a')",
            SITE_PROPERTIES,
            Some(0),
            &["expected an expression"],
        );
        assert_err("'a'", SITE_PROPERTIES, Some(0), &["expected an expression"]);
        assert_err(
            "name.eq(a(1))",
            SITE_PROPERTIES,
            Some(9),
            &["expected ',' or ')'", "found '('"],
        );
        assert_err(
            "name.eq(('a'))",
            SITE_PROPERTIES,
            Some(8),
            &["expected a value but found '('"],
        );
        assert_err(
            "and(name.eq('a') name.eq('b'))",
            SITE_PROPERTIES,
            Some(17),
            &["expected ',' or ')' but found 'n'"],
        );
        assert_err(
            "name.in(['a' 'b'])",
            SITE_PROPERTIES,
            Some(13),
            &["expected ',' or ']'"],
        );
        assert_err(
            "name.in(['a'",
            SITE_PROPERTIES,
            Some(12),
            &["missing ']'", "position 8"],
        );
        assert_err(
            "name.in(['a')",
            SITE_PROPERTIES,
            Some(12),
            &["expected ',' or ']'", "found ')'"],
        );
    }

    // ---- errors: semantics ----

    #[test]
    fn unknown_property() {
        assert_err(
            "foo.eq('a')",
            SITE_PROPERTIES,
            Some(0),
            &[
                "unknown property 'foo'",
                "known properties: id, internalReference, name",
            ],
        );
        assert_err(
            "Name.eq('a')",
            SITE_PROPERTIES,
            Some(0),
            &["unknown property 'Name'"],
        );
        assert_err(
            "enabled.eq(true)",
            SITE_PROPERTIES,
            Some(0),
            &["unknown property 'enabled'"],
        );
        assert_err(
            "access.eq('GUEST')",
            CLIENT_PROPERTIES,
            Some(0),
            &["unknown property 'access'"],
        );
        assert_err(
            "access.foo.eq('x')",
            CLIENT_PROPERTIES,
            Some(0),
            &["unknown property 'access.foo'"],
        );
        assert_err(
            "and(name.eq('a'), bogus.isNull())",
            SITE_PROPERTIES,
            Some(18),
            &["unknown property 'bogus'"],
        );
        assert_err(
            "name.eq('a')",
            &[],
            Some(0),
            &["unknown property 'name'", "cannot be filtered"],
        );
    }

    #[test]
    fn unknown_function() {
        assert_err(
            "name.equals('a')",
            SITE_PROPERTIES,
            Some(5),
            &[
                "unknown function 'equals'",
                "allowed on property 'name': eq, ne, in, notIn",
            ],
        );
        assert_err(
            "name.EQ('a')",
            SITE_PROPERTIES,
            Some(5),
            &["unknown function 'EQ'"],
        );
        assert_err(
            "name.notin('a')",
            SITE_PROPERTIES,
            Some(5),
            &["unknown function 'notin'"],
        );
    }

    #[test]
    fn disallowed_functions() {
        assert_err(
            "id.like('x')",
            SITE_PROPERTIES,
            Some(3),
            &["function 'like' is not allowed on property 'id'"],
        );
        assert_err(
            "name.like('x*')",
            SITE_PROPERTIES,
            Some(5),
            &["'like' is not allowed on property 'name'"],
        );
        assert_err(
            "name.isNull()",
            SITE_PROPERTIES,
            Some(5),
            &["'isNull' is not allowed on property 'name'"],
        );
        assert_err(
            "name.gt('a')",
            SITE_PROPERTIES,
            Some(5),
            &["'gt' is not allowed"],
        );
        assert_err(
            "enabled.gt(false)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["'gt' is not allowed on property 'enabled'", "BOOLEAN"],
        );
        assert_err(
            "enabled.in(true)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &[
                "'in' is not allowed on property 'enabled'",
                "allowed: eq, ne",
            ],
        );
        assert_err(
            "ttlSeconds.like('1*')",
            DNS_POLICY_PROPERTIES,
            Some(11),
            &["'like' is not allowed on property 'ttlSeconds'"],
        );
        assert_err(
            "service.like('_*')",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["'like' is not allowed on property 'service'"],
        );
        assert_err(
            "connectedAt.in(2026-08-20)",
            CLIENT_PROPERTIES,
            Some(12),
            &["'in' is not allowed on property 'connectedAt'"],
        );
        assert_err(
            "access.authorized.le(true)",
            CLIENT_PROPERTIES,
            Some(18),
            &["'le' is not allowed on property 'access.authorized'"],
        );
        assert_err(
            "ipAddress.like('1*')",
            CLIENT_PROPERTIES,
            Some(10),
            &["'like' is not allowed on property 'ipAddress'"],
        );
        assert_err(
            "type.isNotNull()",
            CLIENT_PROPERTIES,
            Some(5),
            &["'isNotNull' is not allowed on property 'type'"],
        );
    }

    #[test]
    fn a_table_cannot_enable_functions_the_type_forbids() {
        const BAD: &[Property] = &[
            Property::new("flag", PropType::Boolean, &[Func::Eq, Func::Gt]),
            Property::new("count", PropType::Integer, &[Func::Eq, Func::Like]),
        ];
        assert_err(
            "flag.gt(true)",
            BAD,
            Some(5),
            &["'gt' is not allowed on property 'flag'", "allowed: eq)"],
        );
        assert_err(
            "count.like('1')",
            BAD,
            Some(6),
            &["'like' is not allowed on property 'count'"],
        );
    }

    #[test]
    fn wrong_argument_counts() {
        assert_err(
            "name.eq('a', 'b')",
            SITE_PROPERTIES,
            Some(5),
            &["function 'eq' takes exactly 1 argument, got 2"],
        );
        assert_err(
            "port.gt(1, 2)",
            DNS_POLICY_PROPERTIES,
            Some(5),
            &["'gt' takes exactly 1 argument, got 2"],
        );
        assert_err(
            "domain.like('a', 'b')",
            DNS_POLICY_PROPERTIES,
            Some(7),
            &["'like' takes exactly 1 argument, got 2"],
        );
        assert_err(
            "ipAddress.isNull('x')",
            CLIENT_PROPERTIES,
            Some(10),
            &["'isNull' takes no arguments, got 1"],
        );
        assert_err(
            "ipAddress.isNotNull(1, 2)",
            CLIENT_PROPERTIES,
            Some(10),
            &["'isNotNull' takes no arguments, got 2"],
        );
        assert_err(
            "port.notIn()",
            DNS_POLICY_PROPERTIES,
            Some(5),
            &["'notIn' takes at least 1 argument, got 0"],
        );
        assert_err(
            "port.le()",
            DNS_POLICY_PROPERTIES,
            Some(5),
            &["'le' takes exactly 1 argument, got 0"],
        );
    }

    #[test]
    fn sets_outside_in_and_not_in() {
        assert_err(
            "name.eq(['a'])",
            SITE_PROPERTIES,
            Some(8),
            &[
                "only allowed as the argument of 'in' or 'notIn'",
                "not of 'eq'",
            ],
        );
        assert_err(
            "name.in(['a'], 'b')",
            SITE_PROPERTIES,
            Some(8),
            &["must be the only argument of 'in'"],
        );
        assert_err(
            "name.notIn('a', ['b'])",
            SITE_PROPERTIES,
            Some(16),
            &["must be the only argument of 'notIn'"],
        );
        assert_err(
            "name.in([['a']])",
            SITE_PROPERTIES,
            Some(9),
            &["cannot be nested"],
        );
        assert_err(
            "ipAddress.isNull([])",
            CLIENT_PROPERTIES,
            Some(17),
            &["empty set"],
        );
    }

    #[test]
    fn wrong_literal_types() {
        assert_err(
            "port.eq('53')",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &[
                "property 'port' is of type INTEGER, but the argument '53' is a STRING",
                "INTEGER values are written without quotes",
            ],
        );
        assert_err(
            "port.in(53, '54')",
            DNS_POLICY_PROPERTIES,
            Some(12),
            &["is of type INTEGER", "'54' is a STRING"],
        );
        assert_err(
            "port.eq(true)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["INTEGER", "true is a BOOLEAN"],
        );
        assert_err(
            "port.eq(1.5)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["INTEGER", "1.5 is a DECIMAL"],
        );
        assert_err(
            "port.eq(1e3)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["1e3 is a DECIMAL"],
        );
        assert_err(
            "port.eq(2026-08-20)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["is a TIMESTAMP"],
        );
        assert_err(
            "name.eq(true)",
            SITE_PROPERTIES,
            Some(8),
            &[
                "property 'name' is of type STRING, but the argument true is a BOOLEAN",
                "single quotes",
            ],
        );
        assert_err(
            "name.eq(5)",
            SITE_PROPERTIES,
            Some(8),
            &["STRING", "5 is an"],
        );
        assert_err(
            "name.eq(lab)",
            SITE_PROPERTIES,
            Some(8),
            &[
                "invalid value 'lab' for STRING property 'name'",
                "single quotes",
            ],
        );
        assert_err(
            "name.in('a', b)",
            SITE_PROPERTIES,
            Some(13),
            &["invalid value 'b'"],
        );
        assert_err(
            "enabled.eq('true')",
            DNS_POLICY_PROPERTIES,
            Some(11),
            &["BOOLEAN", "'true' is a STRING"],
        );
        assert_err(
            "enabled.eq(1)",
            DNS_POLICY_PROPERTIES,
            Some(11),
            &["BOOLEAN", "1 is an INTEGER"],
        );
        assert_err(
            "enabled.eq(TRUE)",
            DNS_POLICY_PROPERTIES,
            Some(11),
            &["invalid value 'TRUE' for BOOLEAN"],
        );
        assert_err(
            "enabled.eq(yes)",
            DNS_POLICY_PROPERTIES,
            Some(11),
            &["invalid value 'yes'"],
        );
    }

    #[test]
    fn wrong_literal_types_for_uuid_and_timestamp() {
        assert_err(
            "id.eq(123)",
            SITE_PROPERTIES,
            Some(6),
            &["property 'id' is of type UUID", "123 is an INTEGER"],
        );
        assert_err(
            "id.eq(not-a-uuid)",
            SITE_PROPERTIES,
            Some(6),
            &["invalid value 'not-a-uuid' for UUID property 'id'"],
        );
        assert_err(
            &format!("id.eq('{SITE_A}')"),
            SITE_PROPERTIES,
            Some(6),
            &[
                "UUID",
                "is a STRING",
                "UUID values are written without quotes",
            ],
        );
        assert_err(
            "id.eq(1a2b3c4d00004000800000000000000a)",
            SITE_PROPERTIES,
            Some(6),
            &["invalid value"],
        );
        assert_err(
            "id.eq(1a2b3c4d-0000-4000-8000-00000000000g)",
            SITE_PROPERTIES,
            Some(6),
            &["invalid value"],
        );
        assert_err(
            &format!("id.in({SITE_A}, 42)"),
            SITE_PROPERTIES,
            Some(44),
            &["42 is an INTEGER"],
        );
        assert_err(
            "connectedAt.gt('2026-08-20')",
            CLIENT_PROPERTIES,
            Some(15),
            &["TIMESTAMP", "is a STRING"],
        );
        assert_err(
            "connectedAt.gt(1787199295)",
            CLIENT_PROPERTIES,
            Some(15),
            &["TIMESTAMP", "INTEGER"],
        );
        assert_err(
            "connectedAt.gt(2026-02-30)",
            CLIENT_PROPERTIES,
            Some(15),
            &["invalid value '2026-02-30' for TIMESTAMP"],
        );
        assert_err(
            "connectedAt.gt(2026-8-20)",
            CLIENT_PROPERTIES,
            Some(15),
            &["invalid value"],
        );
        assert_err(
            "connectedAt.gt(2026-08-20T25:00:00Z)",
            CLIENT_PROPERTIES,
            Some(15),
            &["invalid value"],
        );
        assert_err(
            "connectedAt.gt(2026-08-20 04:14:55Z)",
            CLIENT_PROPERTIES,
            Some(26),
            &["expected ',' or ')'"],
        );
        assert_err(
            "connectedAt.gt(2026-08-20X04:14:55Z)",
            CLIENT_PROPERTIES,
            Some(15),
            &["invalid value"],
        );
        assert_err(
            "connectedAt.eq(true)",
            CLIENT_PROPERTIES,
            Some(15),
            &["true is a BOOLEAN"],
        );
    }

    #[test]
    fn null_literal_and_out_of_range_integers() {
        assert_err(
            "ipAddress.eq(null)",
            CLIENT_PROPERTIES,
            Some(13),
            &["'null' is not a value", "isNull()"],
        );
        assert_err(
            "port.eq(null)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["'null' is not a value"],
        );
        assert_err(
            "port.eq(9223372036854775808)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["out of range"],
        );
        assert_err(
            "port.eq(-9223372036854775809)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["out of range"],
        );
        assert_err(
            "port.eq(-)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["invalid value '-'"],
        );
        assert_err(
            "port.eq(--1)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["invalid value '--1'"],
        );
        assert_err(
            "port.eq(+1)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["invalid value '+1'"],
        );
        assert_err(
            "port.eq(1_000)",
            DNS_POLICY_PROPERTIES,
            Some(8),
            &["invalid value '1_000'"],
        );
    }

    #[test]
    fn first_error_from_the_left_wins() {
        assert_err(
            "and(foo.eq(1), name.eq(5))",
            SITE_PROPERTIES,
            Some(4),
            &["unknown property 'foo'"],
        );
        assert_err(
            "and(name.eq(5), foo.eq(1))",
            SITE_PROPERTIES,
            Some(12),
            &["is of type STRING"],
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        assert_err(
            "name.eq('é☕') x",
            SITE_PROPERTIES,
            Some(14),
            &["unexpected 'x'"],
        );
        assert_err(
            "  name.in('日本語', 5)",
            SITE_PROPERTIES,
            Some(17),
            &["5 is an INTEGER"],
        );
        assert_err(
            "ñame.eq('a')",
            SITE_PROPERTIES,
            Some(0),
            &["expected an expression", "'ñ'"],
        );
    }

    // ---- robustness ----

    /// A tiny deterministic generator (xorshift), so the test needs no
    /// dependency and is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            let len = u64::try_from(items.len()).unwrap_or(1);
            let i = usize::try_from(self.next() % len).unwrap_or(0);
            items.get(i).copied().unwrap_or("")
        }
    }

    #[test]
    fn no_input_makes_parse_or_matches_panic() {
        let valid = [
            "and(name.eq('Hello, ''W''!'), not(or(id.in([1a2b3c4d-0000-4000-8000-00000000000a]), name.ne('é'))))",
            "or(connectedAt.ge(2026-08-20), access.type.in('GUEST', 'DEFAULT'), access.authorized.isNull())",
            "and(domain.like('*.ex\\.am\\*ple.ç☕'), port.in([53, -1, 5060]), enabled.eq(true), ttlSeconds.le(10))",
        ];
        let tables = [SITE_PROPERTIES, DNS_POLICY_PROPERTIES, CLIENT_PROPERTIES];
        let items = [
            wired_client(),
            guest_client(),
            srv_record(),
            sites().remove(0),
            json!(null),
        ];
        let check = |input: &str| {
            for table in tables {
                if let Ok(filter) = Filter::parse(input, table) {
                    for item in &items {
                        filter.matches(item);
                    }
                }
            }
        };
        // Every prefix and suffix of valid filters, at every char boundary.
        for filter in valid {
            for (i, _) in filter.char_indices() {
                check(filter.get(..i).unwrap_or(""));
                check(filter.get(i..).unwrap_or(""));
            }
            check(filter);
        }
        // Random token soup.
        let tokens = [
            "and",
            "or",
            "not",
            "(",
            ")",
            ",",
            "[",
            "]",
            "'",
            "''",
            ".",
            " ",
            "name",
            "id",
            "eq",
            "in",
            "notIn",
            "like",
            "isNull",
            "access",
            "type",
            "port",
            "gt",
            "'x'",
            "5",
            "-",
            "true",
            "2026-08-20",
            "T04:14Z",
            "1a2b3c4d-0000-4000-8000-00000000000a",
            "é",
            "☕",
            "\\",
            "*",
            "%",
            "null",
            "1.5",
            "\t",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3000 {
            let n = usize::try_from(rng.next() % 24).unwrap_or(0);
            let input: String = (0..n).map(|_| rng.pick(&tokens)).collect();
            check(&input);
        }
    }

    #[test]
    fn parsed_filters_are_reusable_and_cloneable() {
        let filter = Filter::parse("name.in('lab', 'Default')", SITE_PROPERTIES)
            .unwrap_or_else(|e| panic!("{e}"));
        let copy = filter.clone();
        let all = sites();
        let a: Vec<bool> = all.iter().map(|s| filter.matches(s)).collect();
        let b: Vec<bool> = all.iter().map(|s| copy.matches(s)).collect();
        assert_eq!(a, [true, false, true]);
        assert_eq!(a, b);
    }
}
