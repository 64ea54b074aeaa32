//! The functions of a SAM/CloudFormation template (`template.yaml`): the names an
//! integration or authorizer URI's `${XFunction.Arn}` may refer to.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::Error;

#[derive(Deserialize)]
struct RawTemplate {
    #[serde(rename = "Resources", default)]
    resources: std::collections::BTreeMap<String, RawResource>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(rename = "Type", default)]
    kind: String,
    // Properties, Metadata, ...: not read here (short-form tags such as `!Ref` are
    // skipped, not interpreted).
    #[serde(flatten)]
    _rest: std::collections::BTreeMap<String, IgnoredAny>,
}

/// The logical IDs of the Lambda functions (`AWS::Serverless::Function`,
/// `AWS::Lambda::Function`) that `path` declares.
pub fn function_names(path: &Path) -> Result<BTreeSet<String>, Error> {
    let fail = |detail: String| Error::Template {
        path: path.to_owned(),
        detail,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let raw: RawTemplate = serde_norway::from_str(&text).map_err(|e| fail(e.to_string()))?;
    Ok(raw
        .resources
        .into_iter()
        .filter(|(_, r)| {
            matches!(
                r.kind.as_str(),
                "AWS::Serverless::Function" | "AWS::Lambda::Function"
            )
        })
        .map(|(name, _)| name)
        .collect())
}
