//! The request mapping template API Gateway applies before calling `hello`, and a renderer
//! faithful to API Gateway for the subset of Velocity (VTL) such templates use.
//!
//! The deployed template is [`REQUEST_TEMPLATE`]: GET /hello's request template in
//! `openapi.yaml`, the one file deploy and the local stack read, taken out of it at
//! compile time (build.rs), so the tests render the very text that is deployed. It
//! turns the authorizer's `name` into `{"name": ...}` that is valid JSON for every
//! possible name; the template's own comments explain how.
//!
//! ```
//! use mapping::{RenderContext, Template};
//!
//! let template = Template::parse(mapping::REQUEST_TEMPLATE)?;
//! let context = RenderContext::with_name(r#"O'Brien "Bob" \o/"#);
//! let event = template.render(&context)?;
//! assert_eq!(event.trim_end(), r#"{"name": "O'Brien \"Bob\" \\o\/"}"#);
//! # Ok::<(), mapping::Error>(())
//! ```
//!
//! Parse once, render many: [`Template::parse`] does all the syntax work (and compiles
//! regular expressions given as literals); [`Template::render`] only walks the tree.
//! A [`Template`] is `Send + Sync`.
//!
//! # Run it
//!
//! ```sh
//! cargo run -p mapping --bin render-template -- --authorizer name="Jane O'Brien"
//! cargo run -p mapping --bin render-template -- --help
//! cargo test -p mapping
//! # against Apache Velocity 1.7 (needs: apt-get install velocity libcommons-lang-java
//! # libcommons-collections3-java default-jdk-headless; `cargo xtask test` does it)
//! cargo test -p mapping --test velocity -- --ignored --nocapture
//! cargo bench -p mapping
//! ```
//!
//! # Why a renderer of our own
//!
//! AWS's local tools refuse mapping templates, and no maintained Rust crate implements
//! Velocity, let alone API Gateway's flavour of it. What matters here is exactly what
//! differs between engines (what a backslash in a string literal means, which whitespace a
//! directive swallows, what a null renders as), so the parser follows Velocity 1.7's
//! grammar (the version API Gateway runs) and refuses anything it does not reproduce.
//!
//! # The supported subset
//!
//! **Text and comments.** Text is copied as is. `## ...` comments run to the end of the
//! line and swallow its newline; `#* ... *#` comments and `#[[ ... ]]#` unparsed blocks
//! are supported. A `#word` that is not a directive is text; `#word(...)` is an error.
//!
//! **References.** `$x`, `$!x`, `${x}`, `$!{x}`, chained with `.property`,
//! `.method(args)` and `[index]`. As in Velocity 1.7, a name is a letter or `_` followed
//! by letters, digits, `_` and **`-`** (`$a-b` is one name), and `.` continues a reference
//! only when a letter follows (`$name.` ends with a literal dot). A null value renders
//! as nothing, with or without `!`: that is what API Gateway does (stock Velocity
//! would print the reference's text).
//!
//! **API Gateway variables.**
//! * `$context`: every variable AWS documents for REST API data transformations —
//!   `authorizer.<key>` (any key the authorizer returned, and `principalId`), `identity.*`,
//!   `stage`, `requestId`, `httpMethod`, `resourcePath`, `path`, `accountId`, `apiId`,
//!   `domainName`, `domainPrefix`, `resourceId`, `deploymentId`, `extendedRequestId`,
//!   `protocol`, `requestTime`, `requestTimeEpoch`, `requestOverride`, `responseOverride`,
//!   ..., and for gateway response templates `error.message`, `messageString`,
//!   `responseType`, `validationErrorString` (local values: see [`RenderContext`]). Any
//!   other `$context` variable is an error, not an empty string.
//! * `$stageVariables.<name>`.
//! * `$input.body`; `$input.json('$.a.b')` (the selected JSON as compact text, `{}` for
//!   `'$'` on an empty body, nothing for a path that does not exist);
//!   `$input.path('$.a.b')` (the selected value, to use with `.`, `#foreach`, `#if`);
//!   `$input.params()` (a map of `path`, `querystring`, `header`);
//!   `$input.params('x')` (path, then query string, then header, the last
//!   case-insensitively; an empty string when absent). JSONPath: `$`, `.name`,
//!   `['name']`, `[n]` only.
//! * `$util.escapeJavaScript`, `urlEncode`, `urlDecode`, `base64Encode`, `base64Decode`,
//!   `parseJson`, with the Java semantics documented on [`escape_javascript`],
//!   [`url_encode`], [`url_decode`], [`base64_encode`] and [`base64_decode`].
//!
//! **Directives.** `#set($x = expr)`, `#set($m.k = v)`, `#set($m['k'] = v)`,
//! `#set($l[0] = v)` (a null value leaves the target unchanged, as Velocity 1.7 does);
//! `#if(expr)` / `#elseif(expr)` / `#else` / `#end`; `#foreach($x in ...)` over lists,
//! arrays, ranges and maps (their values), with `$foreach.hasNext`, `.index`, `.count`,
//! `.first`, `.last`, and `$velocityCount`; `#break` (leaves the innermost `#foreach`, or
//! ends the template); `#stop`; `#define($d) ... #end`; `#{if}`-style bracketed names.
//! Whitespace follows 1.7: a directive's closing `)`, `#else` and `#end` swallow
//! trailing spaces and one newline when the newline follows directly; `#set` also
//! swallows the spaces before it.
//!
//! The language at a glance (every row is covered by the differential test against
//! Velocity 1.7 unless the note says AWS):
//!
//! | construct | example | note |
//! |---|---|---|
//! | text, `##` and `#* *#` comments, `#[[ ]]#` | `a ## note` | `##` after `$a.b` is text (Velocity's lexer) |
//! | references | `$a`, `$!a`, `${a}`, `$a.b`, `$a.m(1)`, `$a[0]` | null renders as nothing (AWS) |
//! | `#set` | `#set($m.k = 1)`, `#set($l[0] = 'x')` | a null value leaves the target as it was |
//! | `#if` / `#elseif` / `#else` | `#if($a && $b != 2)` | null and `false` are false, `""` is true |
//! | `#foreach` | `#foreach($x in $l)$foreach.count#end` | `$foreach.index/count/hasNext/first/last`, `$velocityCount` |
//! | `#break`, `#stop` | `#if($i == 2)#break#end` | `#break` outside a loop ends the template |
//! | `#define` | `#define($d)hi#end$d` | rendered where referenced |
//! | string literals | `'it''s'`, `"say ""hi"" $a"` | only `\uXXXX` is an escape |
//! | list literal | `#set($l = [1, 'b'])$l` | renders `[1, b]` (Java `toString`) |
//! | map literal | `#set($m = {'a': 1})$m` | renders `{a=1}`; string keys only |
//! | range | `#foreach($i in [1..3])` | counts down too; at most 100 000 elements |
//! | arithmetic | `7 / 2`, `-7 % 3`, `7.0 / 2` | `3`, `-1`, `3.5`; `/ 0` and `% 0` are null |
//! | concatenation | `1 + "a"` | `1a` |
//! | comparisons | `==`, `<`, `eq`, `lt`, ... | `<` on non-numbers is false; `null == ""` (AWS) |
//! | list methods | `$l.add(1)`, `set`, `get`, `size`, `contains`, `indexOf`, `remove(i)` | `add` renders `true` |
//! | map methods | `$m.put('k', v)`, `get`, `remove`, `putAll`, `keySet`, `values`, `containsKey` | `put` renders the old value |
//! | String methods | `$s.substring(1, 3)`, `split(',')`, `matches('[a-z]+')` | Java semantics, UTF-16 indexes |
//! | `$input.path('$')` | `{a=1}` for an object, `[{"a":1}]` for a list | as AWS renders them (AWS) |
//! | `$input.json('$')`, `$input.body`, `$input.params(..)` | `{}` for no body | (AWS) |
//! | `$util.*` | `$util.escapeJavaScript($s)` | Java semantics |
//! | `$context.*`, `$stageVariables.*` | `$context.requestOverride.header.x` | every documented variable (AWS) |
//!
//! **Expressions.** String literals: `'...'` is literal (`''` is a quote); `"..."` is
//! literal except that `""` is a quote, `\uXXXX` is a character, and it is rendered as a
//! template when it contains `$` or `#`. **No other backslash escape exists**: `"\\'"` is
//! three characters. Integers, decimals, `true`, `false`, references, parentheses, `+`
//! `-` `*` `/` `%`; `==` `!=` (Velocity's rules: numbers by value, else by string form),
//! `<` `<=` `>` `>=` on numbers (false for anything else, as Velocity logs and does), `&&` `||` `!` and `and` `or` `not` `eq` `ne` `lt` `le`
//! `gt` `ge`. In conditions, null and `false` are false and every other value (even `""`)
//! is true.
//!
//! **Methods.** On strings, Java's `replaceAll`, `replaceFirst`, `replace`, `split`
//! (Java's regex split: trailing empty strings dropped), `matches` (whole string),
//! `toLowerCase`, `toUpperCase`, `trim` (strips characters up to U+0020), `length`,
//! `substring`, `charAt`, `indexOf`, `lastIndexOf` (all in UTF-16 units), `isEmpty`,
//! `contains`, `startsWith`, `endsWith`, `equals`, `equalsIgnoreCase`, `concat`,
//! `toString`. On maps and lists those in the table above, plus `size`, `isEmpty`,
//! `toString`; on `split`'s arrays `size`, `isEmpty`, `get` and `[i]`.
//!
//! **Java regular expressions** (`replaceAll`, `replaceFirst`, `split`, `matches`) use
//! the `regex` crate on a translation of the Java pattern that keeps Java's meaning:
//! `.` excludes all of Java's line terminators, `\d` `\s` `\w` are ASCII-only, matching
//! resumes after empty matches as Java's does, and the replacement follows
//! `Matcher.appendReplacement` (`$1`, `${name}`, `\$`; an invalid one is an error only
//! when something matches). Refused, because `regex` cannot express Java's meaning: `$`
//! as an anchor (Java's also matches before a final newline; use `\z`), `\b`,
//! back-references, look-around, possessive quantifiers, inline flags, nested classes
//! and `&&` in classes, `\p{..}`. A literal `replaceAll` pattern is compiled at parse time.
//!
//! **Refused with an error** (line and column), and why: `#parse`, `#include`,
//! `#evaluate` (they load or evaluate other templates, which API Gateway has no way to
//! provide); `#macro` and Velocimacro calls (AWS's documentation does not list them,
//! and projects report API Gateway rejecting them, e.g. openedx/edx-enterprise pull
//! request 154 "Remove Macro use ... as it is not supported by AWS"; not verified
//! against AWS here); `\$` and `\#` escapes (their meaning depends on whether the reference is
//! defined); literals, arithmetic and collections as conditions (Velocity treats them as
//! false); integer arithmetic beyond 64 bits (Velocity switches to `BigInteger`);
//! non-string map keys; `'a' + $undefined` (Velocity inserts the reference's source
//! text); rendering a `split` array (Java prints `[Ljava.lang.String;@hash`); a
//! `#foreach` over a variable whose enclosing loop's element is null (Velocity's null
//! holder then changes mid-loop); any method, property or variable not listed above.
//!
//! **Where API Gateway differs from stock Velocity** (each a literal test in
//! `tests/aws_renderings.rs` citing LocalStack's `aws.validated` snapshot):
//! a JSON array from `$input.path` or `$util.parseJson` renders as JSON
//! (`[{"foo":"bar"}]`) while a JSON object renders as a Java map (`{foo=bar}`); a null
//! value equals `""`; `$input.body` of a request without a body is `{}`; a property of a
//! string or list is null (`$input.body.x`); a null reference renders as nothing.
//! [`Template::render_with_overrides`] returns what the template assigned to
//! `$context.requestOverride.{header,path,querystring}` and
//! `$context.responseOverride.{header,status}` (assignable with `#set($m.k = v)`,
//! `#set($m['k'] = v)`, `.put(k, v)`, and `$context["requestOverride"]`), over what an
//! earlier template of the request assigned ([`RenderContext::overrides`]). A template
//! that reads only `$context.authorizer` and `$util` ([`Template::reads_only_authorizer`])
//! renders once per shared authorizer context there, as a cached decision hands one to
//! every request it allows.
//!
//! **`$context`.** Every variable AWS documents for REST API data transformations
//! (see [`RenderContext`] for the local values of those a local stack has no source for).
//! Undocumented names are an error.
//!
//! **The differential test** (`tests/velocity.rs`, run by `cargo xtask test`) renders
//! 10 000 generated templates per run with this crate and with Apache Velocity 1.7
//! and requires identical output; its generator covers every construct above.
//!
//! **Velocity 1.7's lexer states.** Velocity's lexer stays in a "reference" state
//! after a reference until a character it has no token for; the parser models that
//! state where it changes the output: after `$a.b` a `##` is text, not a comment (also
//! after a `#set` or a nested reference that returns there); whitespace after `}`,
//! after a word directly following a reference, or after `#1` starts a new token, so a
//! following `#set` eats it. Text like `x.y` right after a reference (Velocity drops
//! `.y`) is refused. Still differing, and kept out of the differential test's
//! generator: a `[` after `$l[0]` and more text (a parse error there), a lone `$` or
//! `#` directly before a directive or backslash (dropped there), `$a.b(` at the very
//! end, and a `##` comment at the very end without a newline after some references. A
//! `$` or `#` as the very last character is a lexical error there and here.

mod ast;
mod context;
mod error;
mod functions;
mod java_regex;
mod parser;
mod render;
mod value;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub use context::{RenderContext, RequestFacts};
pub use error::Error;
pub use functions::{base64_decode, base64_encode, escape_javascript, url_decode, url_encode};

/// The deployed request mapping template, byte for byte as openapi.yaml holds it
/// ([`REQUEST_TEMPLATE_SOURCE`]).
pub const REQUEST_TEMPLATE: &str = include_str!(concat!(env!("OUT_DIR"), "/request.vtl"));

/// Where [`REQUEST_TEMPLATE`] is written (for messages): `openapi.yaml: paths > /hello >
/// get > x-amazon-apigateway-integration > requestTemplates > application/json`.
pub const REQUEST_TEMPLATE_SOURCE: &str = env!("REQUEST_TEMPLATE_SOURCE");

/// A parsed template, ready to render any number of times.
#[derive(Debug)]
pub struct Template {
    source: String,
    nodes: Vec<ast::Node>,
    reads_params: bool,
    reads_only_authorizer: bool,
    /// The last [`Template::render_with_overrides`] of a template that reads only the
    /// authorizer's context, with that context.
    memo: Mutex<Option<Memo>>,
}

/// A rendering and the authorizer context it was for.
#[derive(Debug)]
struct Memo {
    authorizer: Arc<BTreeMap<String, String>>,
    rendered: Rendered,
}

impl Clone for Template {
    /// A copy with its own (empty) memo.
    fn clone(&self) -> Self {
        Template {
            source: self.source.clone(),
            nodes: self.nodes.clone(),
            reads_params: self.reads_params,
            reads_only_authorizer: self.reads_only_authorizer,
            memo: Mutex::new(None),
        }
    }
}

impl Template {
    /// Parses a template. Errors name the line and column of the first construct that is
    /// not valid Velocity or not in the supported subset (see the crate docs).
    pub fn parse(source: &str) -> Result<Template, Error> {
        let nodes = parser::parse(source, 0).map_err(|pending| pending.locate(source))?;
        Ok(Template {
            source: source.to_owned(),
            reads_params: ast::reads_params(&nodes),
            reads_only_authorizer: ast::reads_only_authorizer(&nodes),
            nodes,
            memo: Mutex::new(None),
        })
    }

    /// Renders the template for one request.
    ///
    /// Errors are those that depend on the request: a body that is not JSON when the
    /// template reads it as JSON, invalid base64 given to `base64Decode`, ... (see
    /// [`Error`]).
    pub fn render(&self, context: &RenderContext) -> Result<String, Error> {
        let mut out = String::with_capacity(self.source.len() + 64);
        render::Renderer::new(context)
            .render(&self.nodes, &mut out)
            .map_err(|pending| pending.locate(&self.source))?;
        Ok(out)
    }

    /// Renders the template and returns what it assigned to `$context.requestOverride`
    /// and `$context.responseOverride`, for the emulator to apply (AWS applies them to
    /// the integration request and the method response).
    ///
    /// A template that reads only the authorizer's context ([`Template::reads_only_authorizer`])
    /// renders the same for every request with that context, as a cached decision hands
    /// the same shared context to each request it allows: such a template renders once
    /// per context (compared by address; the memo holds the context, so no other can
    /// take its address) and clones the result: rendering was about 7% of a cached
    /// request's instructions in the emulator (callgrind, load bench).
    pub fn render_with_overrides(&self, context: &RenderContext) -> Result<Rendered, Error> {
        let memoized = self.reads_only_authorizer && context.overrides.is_empty();
        if memoized {
            let memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(memo) = memo.as_ref()
                && Arc::ptr_eq(&memo.authorizer, &context.authorizer)
            {
                return Ok(memo.rendered.clone());
            }
        }
        let rendered = self.render_fresh(context)?;
        if memoized {
            *self.memo.lock().unwrap_or_else(|e| e.into_inner()) = Some(Memo {
                authorizer: context.authorizer.clone(),
                rendered: rendered.clone(),
            });
        }
        Ok(rendered)
    }

    fn render_fresh(&self, context: &RenderContext) -> Result<Rendered, Error> {
        let mut out = String::with_capacity(self.source.len() + 64);
        let mut renderer = render::Renderer::new(context);
        renderer
            .render(&self.nodes, &mut out)
            .map_err(|pending| pending.locate(&self.source))?;
        let overrides = renderer
            .overrides()
            .map_err(|pending| pending.locate(&self.source))?;
        Ok(Rendered {
            body: out,
            overrides,
        })
    }

    /// Renders as stock Apache Velocity 1.7 would where API Gateway differs from it
    /// (`$null == ""` is false there). Only for the differential test against Velocity;
    /// not what AWS does.
    #[doc(hidden)]
    pub fn render_as_stock_velocity(&self, context: &RenderContext) -> Result<String, Error> {
        let mut out = String::with_capacity(self.source.len() + 64);
        render::Renderer::new(context)
            .stock()
            .render(&self.nodes, &mut out)
            .map_err(|pending| pending.locate(&self.source))?;
        Ok(out)
    }

    /// Whether rendering may read [`RenderContext`]'s `path_params`, `query` and
    /// `headers` (`$input.params`); when it cannot, a caller may leave them empty (the
    /// `Host` header aside, which `$context.domainName` reads). Conservative: any use of
    /// `$input` but `$input.body`, `$input.json(..)` and `$input.path(..)` counts.
    pub fn reads_params(&self) -> bool {
        self.reads_params
    }

    /// Whether it reads nothing but `$context.authorizer` and `$util` (whose functions
    /// are pure) and assigns nothing, so that its output is a function of the
    /// authorizer's context alone. Conservative: any other variable, `#set`, `#foreach`
    /// and `#define` count as more.
    pub fn reads_only_authorizer(&self) -> bool {
        self.reads_only_authorizer
    }

    /// The template's source text.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// A rendering with the overrides the template assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The rendered text.
    pub body: String,
    /// `$context.requestOverride` / `$context.responseOverride`.
    pub overrides: Overrides,
}

/// What a template assigned to `$context.requestOverride.{header,path,querystring}` and
/// `$context.responseOverride.{header,status}` (values in their Java string form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `$context.requestOverride.header.<name>`.
    pub request_headers: std::collections::BTreeMap<String, String>,
    /// `$context.requestOverride.path.<name>`.
    pub request_path: std::collections::BTreeMap<String, String>,
    /// `$context.requestOverride.querystring.<name>`.
    pub request_querystring: std::collections::BTreeMap<String, String>,
    /// `$context.responseOverride.header.<name>`.
    pub response_headers: std::collections::BTreeMap<String, String>,
    /// `$context.responseOverride.status`.
    pub response_status: Option<u16>,
}

impl Overrides {
    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.request_headers.is_empty()
            && self.request_path.is_empty()
            && self.request_querystring.is_empty()
            && self.response_headers.is_empty()
            && self.response_status.is_none()
    }
}

/// [`REQUEST_TEMPLATE`], parsed once per process.
pub fn request_template() -> &'static Template {
    static PARSED: std::sync::OnceLock<Template> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| {
        Template::parse(REQUEST_TEMPLATE).expect("the deployed template is tested to parse")
    })
}
