//! The static server for the built site (`site/dist`), with a generated `config.json`
//! that points the page at the local API and identity provider, and the deployed site's
//! security headers.
//!
//! The headers are not written here: they are read out of `template.yaml`'s
//! `SiteResponseHeadersPolicy` (the CloudFront response headers policy the deployed site
//! is served with), so the browser tests run the page under the policy that ships. Its
//! Content-Security-Policy is a `Fn::Sub` whose variables name the API's origin and Google
//! Identity Services; locally they become the local API and the local identity provider
//! (the local stand-in for Google, which the sign-in form calls).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_norway::Value as Yaml;
use tower_http::services::ServeDir;

use crate::Error;

/// The deployed template, embedded at build time like `openapi.yaml`.
pub const EMBEDDED_TEMPLATE: &str = include_str!("../../template.yaml");

/// The template's resource that holds the site's headers.
pub const POLICY_RESOURCE: &str = "SiteResponseHeadersPolicy";

/// The `Fn::Sub` variable of the policy that names the API's origin.
pub const API_ORIGIN_VARIABLE: &str = "ApiOrigin";

/// The `Fn::Sub` variable of the policy that names Google Identity Services' URL prefix.
pub const GOOGLE_VARIABLE: &str = "GoogleIdentityServices";

/// The page's runtime configuration for the local stack (`googleClientId` null: no Google
/// button; the local sign-in form instead), in the shape `site-config` defines.
pub fn config_json(api_url: &str, idp_url: &str) -> String {
    site_config::SiteConfig::local(api_url, idp_url).to_json()
}

/// Checks that `dir` holds a built site.
pub fn check_site_dir(dir: &Path) -> Result<PathBuf, Error> {
    if dir.join("index.html").is_file() {
        Ok(dir.to_owned())
    } else {
        Err(Error::SiteNotBuilt(dir.to_owned()))
    }
}

/// The headers CloudFront adds to every file of the site, in the template's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl SecurityHeaders {
    /// The embedded template's policy for the local stack: the API at `api_origin`
    /// (`http://127.0.0.1:4101`), the identity provider at `idp_url` (`http://127.0.0.1:4102`)
    /// where the deployed policy has Google Identity Services.
    pub fn local(api_origin: &str, idp_url: &str) -> Result<Self, Error> {
        let variables = BTreeMap::from([
            (API_ORIGIN_VARIABLE.to_owned(), api_origin.to_owned()),
            // Google's sources are prefixes ("…/gsi/" + "client"): the IdP's root is too.
            (
                GOOGLE_VARIABLE.to_owned(),
                format!("{}/", idp_url.trim_end_matches('/')),
            ),
        ]);
        Self::from_template(EMBEDDED_TEMPLATE, &variables)
    }

    /// Reads [`POLICY_RESOURCE`] out of a template's text, giving each `Fn::Sub` variable
    /// its value from `variables`. Anything the policy says that this server would not
    /// send as CloudFront does is refused, never skipped.
    pub fn from_template(
        template: &str,
        variables: &BTreeMap<String, String>,
    ) -> Result<Self, Error> {
        let document: Yaml = serde_norway::from_str(template)
            .map_err(|e| Error::SiteHeaders(format!("template.yaml is not YAML: {e}")))?;
        let resource = document
            .get("Resources")
            .and_then(|r| r.get(POLICY_RESOURCE))
            .ok_or_else(|| fail(format!("no resource {POLICY_RESOURCE}")))?;
        if resource.get("Type").and_then(Yaml::as_str)
            != Some("AWS::CloudFront::ResponseHeadersPolicy")
        {
            return Err(fail(
                "its Type is not AWS::CloudFront::ResponseHeadersPolicy",
            ));
        }
        let config = resource
            .get("Properties")
            .and_then(|p| p.get("ResponseHeadersPolicyConfig"))
            .ok_or_else(|| fail("no Properties.ResponseHeadersPolicyConfig"))?;
        let mut headers = Vec::new();
        for (key, value) in mapping(config, "ResponseHeadersPolicyConfig")? {
            match key {
                // Metadata: nothing a browser sees.
                "Name" | "Comment" => {}
                "SecurityHeadersConfig" => security_headers(value, variables, &mut headers)?,
                "CustomHeadersConfig" => custom_headers(value, variables, &mut headers)?,
                other => return Err(not_reproduced(other)),
            }
        }
        let mut names = BTreeSet::new();
        for (name, _) in &headers {
            if !names.insert(name.as_str()) {
                return Err(fail(format!("{name} is set twice")));
            }
        }
        Ok(SecurityHeaders { headers })
    }

    /// The value of one header, if the policy sets it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.to_str().ok())
    }

    /// Every header, as (lower-case name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or_default()))
    }
}

fn fail(detail: impl Into<String>) -> Error {
    Error::SiteHeaders(detail.into())
}

fn not_reproduced(key: &str) -> Error {
    fail(format!(
        "{key} is not reproduced by the local site server; add it to local/src/site.rs"
    ))
}

fn mapping<'a>(value: &'a Yaml, at: &str) -> Result<Vec<(&'a str, &'a Yaml)>, Error> {
    let map = value
        .as_mapping()
        .ok_or_else(|| fail(format!("{at} is not a mapping")))?;
    map.iter()
        .map(|(k, v)| {
            k.as_str()
                .map(|k| (k, v))
                .ok_or_else(|| fail(format!("{at} has a key that is not a string")))
        })
        .collect()
}

fn field<'a>(value: &'a Yaml, at: &str, key: &str) -> Result<&'a Yaml, Error> {
    value
        .get(key)
        .ok_or_else(|| fail(format!("{at} has no {key}")))
}

fn boolean(value: &Yaml, at: &str, key: &str) -> Result<bool, Error> {
    field(value, at, key)?
        .as_bool()
        .ok_or_else(|| fail(format!("{at}.{key} is not a boolean")))
}

/// Every header of a policy must say `Override` (CloudFormation requires it); the local
/// site's files carry none of these headers, so either value sends the policy's.
fn check_override(value: &Yaml, at: &str) -> Result<(), Error> {
    boolean(value, at, "Override").map(drop)
}

fn push(
    headers: &mut Vec<(HeaderName, HeaderValue)>,
    name: &str,
    value: &str,
) -> Result<(), Error> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| fail(format!("{name:?} is not a header name")))?;
    let value = HeaderValue::from_str(value).map_err(|_| {
        fail(format!(
            "the value of {name} is not a header value: {value:?}"
        ))
    })?;
    headers.push((header, value));
    Ok(())
}

/// `SecurityHeadersConfig`, each part as the CloudFront API reference describes it
/// (ResponseHeadersPolicySecurityHeadersConfig and the types it names).
fn security_headers(
    config: &Yaml,
    variables: &BTreeMap<String, String>,
    headers: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<(), Error> {
    for (key, value) in mapping(config, "SecurityHeadersConfig")? {
        let at = format!("SecurityHeadersConfig.{key}");
        check_override(value, &at)?;
        match key {
            "ContentSecurityPolicy" => {
                let policy =
                    substitute(field(value, &at, "ContentSecurityPolicy")?, &at, variables)?;
                push(headers, "content-security-policy", &policy)?;
            }
            // "with its value set to nosniff": the only value it has.
            "ContentTypeOptions" => push(headers, "x-content-type-options", "nosniff")?,
            "FrameOptions" => {
                let option = field(value, &at, "FrameOption")?.as_str();
                match option {
                    Some(option @ ("DENY" | "SAMEORIGIN")) => {
                        push(headers, "x-frame-options", option)?
                    }
                    _ => return Err(fail(format!("{at}.FrameOption is not DENY or SAMEORIGIN"))),
                }
            }
            "ReferrerPolicy" => {
                const VALUES: [&str; 8] = [
                    "no-referrer",
                    "no-referrer-when-downgrade",
                    "origin",
                    "origin-when-cross-origin",
                    "same-origin",
                    "strict-origin",
                    "strict-origin-when-cross-origin",
                    "unsafe-url",
                ];
                match field(value, &at, "ReferrerPolicy")?.as_str() {
                    Some(policy) if VALUES.contains(&policy) => {
                        push(headers, "referrer-policy", policy)?
                    }
                    _ => {
                        return Err(fail(format!(
                            "{at}.ReferrerPolicy is not one of {}",
                            VALUES.join(", ")
                        )));
                    }
                }
            }
            "StrictTransportSecurity" => {
                let max_age = field(value, &at, "AccessControlMaxAgeSec")?
                    .as_u64()
                    .ok_or_else(|| fail(format!("{at}.AccessControlMaxAgeSec is not a number")))?;
                let flag = |key| match value.get(key) {
                    None => Ok(false),
                    Some(_) => boolean(value, &at, key),
                };
                // The directives of RFC 6797 section 6.1, the ones the policy names.
                let mut hsts = format!("max-age={max_age}");
                if flag("IncludeSubdomains")? {
                    hsts.push_str("; includeSubDomains");
                }
                if flag("Preload")? {
                    hsts.push_str("; preload");
                }
                push(headers, "strict-transport-security", &hsts)?;
            }
            // XSSProtection (X-XSS-Protection, obsolete) and anything newer.
            other => return Err(not_reproduced(&format!("SecurityHeadersConfig.{other}"))),
        }
    }
    Ok(())
}

/// `CustomHeadersConfig.Items`: `{Header, Value, Override}` each.
fn custom_headers(
    config: &Yaml,
    variables: &BTreeMap<String, String>,
    headers: &mut Vec<(HeaderName, HeaderValue)>,
) -> Result<(), Error> {
    let items = field(config, "CustomHeadersConfig", "Items")?
        .as_sequence()
        .ok_or_else(|| fail("CustomHeadersConfig.Items is not a list"))?;
    for (i, item) in items.iter().enumerate() {
        let at = format!("CustomHeadersConfig.Items[{i}]");
        check_override(item, &at)?;
        let name = field(item, &at, "Header")?
            .as_str()
            .ok_or_else(|| fail(format!("{at}.Header is not a string")))?;
        let value = substitute(field(item, &at, "Value")?, &at, variables)?;
        push(headers, &name.to_ascii_lowercase(), &value)?;
    }
    Ok(())
}

/// A string, or a `Fn::Sub` of one (with or without its variable map), with every
/// `${Name}` replaced by `variables[Name]`. A name without a local value, or a map entry
/// the local stack does not know, is an error: the local policy would differ silently.
fn substitute(
    value: &Yaml,
    at: &str,
    variables: &BTreeMap<String, String>,
) -> Result<String, Error> {
    let (text, map) = match value {
        Yaml::String(text) => return Ok(text.clone()),
        Yaml::Mapping(_) => match value.get("Fn::Sub") {
            Some(Yaml::String(text)) => (text.as_str(), None),
            Some(Yaml::Sequence(items)) => match items.as_slice() {
                [Yaml::String(text), map @ Yaml::Mapping(_)] => (text.as_str(), Some(map)),
                _ => return Err(fail(format!("{at}: Fn::Sub is not [text, variables]"))),
            },
            _ => return Err(fail(format!("{at} is not a string or a Fn::Sub"))),
        },
        _ => return Err(fail(format!("{at} is not a string or a Fn::Sub"))),
    };
    if let Some(map) = map {
        for (name, _) in mapping(map, at)? {
            if !variables.contains_key(name) {
                return Err(fail(format!(
                    "{at}: the Fn::Sub variable {name} has no local value (known: {})",
                    variables.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
    }
    sub(text, at, variables)
}

/// CloudFormation's `Fn::Sub` on a string: `${Name}` is a variable, `${!Text}` is the
/// literal `${Text}`. Hand-written: no crate evaluates CloudFormation intrinsics.
fn sub(text: &str, at: &str, variables: &BTreeMap<String, String>) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| fail(format!("{at}: an unclosed ${{ in Fn::Sub")))?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else {
            let value = variables
                .get(name)
                .ok_or_else(|| fail(format!("{at}: ${{{name}}} has no local value")))?;
            out.push_str(value);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Serves `dir`, with `config` at `/config.json` whatever the directory holds, and
/// `headers` on every answer. Nothing is cached by the browser, so a rebuilt site shows
/// at the next reload.
pub fn app(dir: &Path, config: String, headers: SecurityHeaders) -> Router {
    let headers = Arc::new(headers);
    Router::new()
        .route(
            "/config.json",
            get(move || {
                let config = config.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], config).into_response() }
            }),
        )
        .fallback_service(ServeDir::new(dir).append_index_html_on_directories(true))
        .layer(map_response(move |mut response: Response| {
            let headers = headers.clone();
            async move {
                let map = response.headers_mut();
                map.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                for (name, value) in &headers.headers {
                    map.insert(name.clone(), value.clone());
                }
                response
            }
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL_API: &str = "http://127.0.0.1:4101";
    const LOCAL_IDP: &str = "http://127.0.0.1:4102";

    /// The deployed policy, as CloudFormation renders it in eu-west-1.
    const DEPLOYED_CSP: &str = "default-src 'none'; \
        script-src 'self' 'wasm-unsafe-eval' https://accounts.google.com/gsi/client; \
        style-src 'self' https://accounts.google.com/gsi/style; \
        connect-src 'self' https://*.execute-api.eu-west-1.amazonaws.com https://accounts.google.com/gsi/; \
        frame-src https://accounts.google.com/gsi/; \
        img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
        frame-ancestors 'none'";

    fn template_on_disk() -> Yaml {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
        serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn policy_config(template: &Yaml) -> &Yaml {
        &template["Resources"][POLICY_RESOURCE]["Properties"]["ResponseHeadersPolicyConfig"]
    }

    fn variables(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The local policy is the deployed text with only the two origins replaced: read
    /// apart from the code under test (the file on disk, plain string replacement).
    #[test]
    fn local_policy_is_the_templates_text_with_the_local_api_and_identity_provider() {
        let template = template_on_disk();
        let sub = &policy_config(&template)["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
            ["Fn::Sub"];
        let text = sub[0].as_str().unwrap();
        let expected = text
            .replace("${ApiOrigin}", LOCAL_API)
            .replace("${GoogleIdentityServices}", "http://127.0.0.1:4102/");
        let local = SecurityHeaders::local(LOCAL_API, LOCAL_IDP).unwrap();
        assert_eq!(
            local.get("Content-Security-Policy"),
            Some(expected.as_str())
        );
        // What is embedded is this checkout's file.
        assert_eq!(
            serde_norway::from_str::<Yaml>(EMBEDDED_TEMPLATE).unwrap(),
            template
        );
    }

    #[test]
    fn local_site_sends_exactly_these_headers() {
        let local = SecurityHeaders::local(LOCAL_API, &format!("{LOCAL_IDP}/")).unwrap();
        let headers: Vec<(&str, &str)> = local.iter().collect();
        assert_eq!(
            headers,
            [
                (
                    "content-security-policy",
                    "default-src 'none'; \
                     script-src 'self' 'wasm-unsafe-eval' http://127.0.0.1:4102/client; \
                     style-src 'self' http://127.0.0.1:4102/style; \
                     connect-src 'self' http://127.0.0.1:4101 http://127.0.0.1:4102/; \
                     frame-src http://127.0.0.1:4102/; \
                     img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
                     frame-ancestors 'none'"
                ),
                ("x-content-type-options", "nosniff"),
                ("x-frame-options", "DENY"),
                ("referrer-policy", "strict-origin-when-cross-origin"),
                (
                    "strict-transport-security",
                    "max-age=63072000; includeSubDomains"
                ),
                ("cross-origin-opener-policy", "same-origin-allow-popups"),
            ]
        );
    }

    #[test]
    fn deployed_policy_names_google_identity_services_and_the_regions_apis() {
        let template = template_on_disk();
        let map = &policy_config(&template)["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
            ["Fn::Sub"][1];
        assert_eq!(
            map["GoogleIdentityServices"].as_str(),
            Some("https://accounts.google.com/gsi/")
        );
        assert_eq!(
            map["ApiOrigin"]["Fn::Sub"].as_str(),
            Some("https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}")
        );
        // CloudFormation's rendering, with the map's values in eu-west-1.
        let deployed = SecurityHeaders::from_template(
            EMBEDDED_TEMPLATE,
            &variables(&[
                ("ApiOrigin", "https://*.execute-api.eu-west-1.amazonaws.com"),
                ("GoogleIdentityServices", "https://accounts.google.com/gsi/"),
            ]),
        )
        .unwrap();
        assert_eq!(deployed.get("content-security-policy"), Some(DEPLOYED_CSP));
    }

    #[test]
    fn scripts_run_only_from_the_site_its_wasm_and_google_never_inline() {
        let directives: BTreeMap<&str, Vec<&str>> = DEPLOYED_CSP
            .split(';')
            .map(|d| {
                let mut words = d.split_whitespace();
                (words.next().unwrap(), words.collect())
            })
            .collect();
        assert_eq!(
            directives["script-src"],
            [
                "'self'",
                "'wasm-unsafe-eval'",
                "https://accounts.google.com/gsi/client"
            ]
        );
        assert_eq!(directives["default-src"], ["'none'"]);
        for directive in ["object-src", "base-uri", "form-action", "frame-ancestors"] {
            assert_eq!(directives[directive], ["'none'"], "{directive}");
        }
        for keyword in [
            "'unsafe-inline'",
            "'unsafe-eval'",
            "'unsafe-hashes'",
            "data:",
            "*;",
        ] {
            assert!(!DEPLOYED_CSP.contains(keyword), "{keyword}");
        }
    }

    #[test]
    fn the_distribution_serves_the_site_with_this_policy() {
        let template = template_on_disk();
        let behaviour = &template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
            ["DefaultCacheBehavior"];
        assert_eq!(
            behaviour["ResponseHeadersPolicyId"]["Ref"].as_str(),
            Some(POLICY_RESOURCE)
        );
    }

    /// A template with `config` as the policy's ResponseHeadersPolicyConfig.
    fn with_config(config: &str) -> String {
        let indented: String = config.lines().map(|l| format!("        {l}\n")).collect();
        format!(
            "Resources:\n  {POLICY_RESOURCE}:\n    Type: AWS::CloudFront::ResponseHeadersPolicy\n    \
             Properties:\n      ResponseHeadersPolicyConfig:\n{indented}"
        )
    }

    fn refusal(config: &str, vars: &[(&str, &str)]) -> String {
        SecurityHeaders::from_template(&with_config(config), &variables(vars))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_variable_without_a_local_value_is_refused() {
        let config = "SecurityHeadersConfig:\n  ContentSecurityPolicy:\n    Override: true\n    \
                      ContentSecurityPolicy:\n      Fn::Sub:\n        - \"connect-src ${Cdn}\"\n        \
                      - Cdn: https://cdn.example\n";
        assert_eq!(
            refusal(config, &[("ApiOrigin", "http://a")]),
            "template.yaml's site headers policy (SiteResponseHeadersPolicy): \
             SecurityHeadersConfig.ContentSecurityPolicy: the Fn::Sub variable Cdn has no \
             local value (known: ApiOrigin)"
        );
        let config = "CustomHeadersConfig:\n  Items:\n    - Header: X-Region\n      Override: true\n      \
                      Value:\n        Fn::Sub: \"${AWS::Region}\"\n";
        assert_eq!(
            refusal(config, &[]),
            "template.yaml's site headers policy (SiteResponseHeadersPolicy): \
             CustomHeadersConfig.Items[0]: ${AWS::Region} has no local value"
        );
    }

    #[test]
    fn headers_the_local_server_does_not_send_are_refused() {
        let config =
            "SecurityHeadersConfig:\n  XSSProtection:\n    Override: true\n    Protection: true\n";
        assert_eq!(
            refusal(config, &[]),
            "template.yaml's site headers policy (SiteResponseHeadersPolicy): \
             SecurityHeadersConfig.XSSProtection is not reproduced by the local site server; \
             add it to local/src/site.rs"
        );
        let config = "CorsConfig:\n  OriginOverride: true\n";
        assert_eq!(
            refusal(config, &[]),
            "template.yaml's site headers policy (SiteResponseHeadersPolicy): CorsConfig is \
             not reproduced by the local site server; add it to local/src/site.rs"
        );
        let config =
            "SecurityHeadersConfig:\n  FrameOptions:\n    Override: true\n    FrameOption: ALLOW\n";
        assert_eq!(
            refusal(config, &[]),
            "template.yaml's site headers policy (SiteResponseHeadersPolicy): \
             SecurityHeadersConfig.FrameOptions.FrameOption is not DENY or SAMEORIGIN"
        );
        let config = "SecurityHeadersConfig:\n  ContentTypeOptions: {}\n";
        assert_eq!(
            refusal(config, &[]),
            "template.yaml's site headers policy (SiteResponseHeadersPolicy): \
             SecurityHeadersConfig.ContentTypeOptions has no Override"
        );
    }

    #[test]
    fn fn_sub_keeps_escaped_literals_and_plain_strings() {
        let config = "CustomHeadersConfig:\n  Items:\n    - Header: X-A\n      Override: false\n      \
                      Value:\n        Fn::Sub: \"${!Literal} ${Api}\"\n    - Header: X-B\n      \
                      Override: true\n      Value: plain ${NotSubstituted}\n";
        let headers =
            SecurityHeaders::from_template(&with_config(config), &variables(&[("Api", "x")]))
                .unwrap();
        assert_eq!(headers.get("x-a"), Some("${Literal} x"));
        assert_eq!(headers.get("x-b"), Some("plain ${NotSubstituted}"));
    }
}
