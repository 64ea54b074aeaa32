//! What API Gateway does with a TOKEN authorizer's answer: check its shape, then evaluate
//! its IAM policy against the method ARN of each request.
//!
//! Hand-written because no library evaluates API Gateway's subset of IAM: `Allow`/`Deny`
//! statements whose `Action` and `Resource` are matched with `*` and `?` wildcards, where
//! an explicit Deny wins over any Allow and no matching Allow is an implicit deny.

use std::collections::BTreeMap;
use std::sync::Arc;

use authorizer_contract::{MethodArn, iam_wildcard_match};
use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerResponse;
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde_json::Value;

use crate::lambda::AuthorizerAnswer;

/// A well-formed authorizer answer, kept in the decision cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerResult {
    /// `principalId`.
    pub principal_id: String,
    statements: Vec<Statement>,
    /// `context`, every value in the string form templates see, plus nothing else
    /// (`principalId` is added where templates read it).
    pub context: BTreeMap<String, String>,
    /// `policyDocument` as the function returned it, for the request's trace.
    pub policy: Value,
    /// [`AuthorizerResult::context`] with `principalId`: what templates read as
    /// `$context.authorizer`, made once per decision and shared by every request the
    /// cached decision allows.
    template_context: Arc<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// The policy's verdict for one method ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// A Deny statement matched: 403 "... with an explicit deny".
    ExplicitDeny,
    /// No Allow statement matched: 403.
    ImplicitDeny,
}

/// The action API Gateway checks, lower-cased (IAM actions are case-insensitive).
const INVOKE: &str = "execute-api:invoke";

impl AuthorizerResult {
    /// Checks an authorizer's JSON answer as API Gateway does. `Err` says what is wrong;
    /// API Gateway then answers 500 (`AUTHORIZER_CONFIGURATION_ERROR`).
    pub fn from_response(response: &Value) -> Result<Self, String> {
        let object = response
            .as_object()
            .ok_or("the answer is not a JSON object")?;
        let principal_id = match object.get("principalId") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err("principalId is missing".into());
            }
            Some(_) => return Err("principalId must be a string".into()),
        };
        let document = match object.get("policyDocument") {
            Some(Value::Object(document)) => document,
            None | Some(Value::Null) => return Err("policyDocument is missing".into()),
            Some(_) => return Err("policyDocument must be an object".into()),
        };
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(item @ Value::Object(_)) => vec![item],
            _ => return Err("policyDocument.Statement is missing".into()),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| statement(s).map_err(|e| format!("Statement[{i}]: {e}")))
            .collect::<Result<Vec<_>, _>>()?;

        Ok(AuthorizerResult::new(
            principal_id,
            statements,
            context_strings(object.get("context"))?,
            Value::Object(document.clone()),
        ))
    }

    /// Checks an answer of either form (typed from an in-process handler, or JSON).
    pub fn from_answer(answer: &AuthorizerAnswer) -> Result<Self, String> {
        match answer {
            AuthorizerAnswer::Json(value) => Self::from_response(value),
            AuthorizerAnswer::Typed(answer) => Self::from_typed(answer),
        }
    }

    /// Checks a typed answer with the rules of [`AuthorizerResult::from_response`], the
    /// same outcome as for its JSON (what `lambda_runtime` would post), without writing it.
    pub fn from_typed(answer: &ApiGatewayCustomAuthorizerResponse) -> Result<Self, String> {
        let principal_id = answer
            .principal_id
            .clone()
            .filter(|id| !id.is_empty())
            .ok_or("principalId is missing")?;
        let statements = answer
            .policy_document
            .statement
            .iter()
            .enumerate()
            .map(|(i, s)| typed_statement(s).map_err(|e| format!("Statement[{i}]: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AuthorizerResult::new(
            principal_id,
            statements,
            context_strings(Some(&answer.context))?,
            serde_json::to_value(&answer.policy_document).unwrap_or_default(),
        ))
    }

    fn new(
        principal_id: String,
        statements: Vec<Statement>,
        context: BTreeMap<String, String>,
        policy: Value,
    ) -> Self {
        let mut template_context = context.clone();
        template_context.insert("principalId".to_owned(), principal_id.clone());
        AuthorizerResult {
            principal_id,
            statements,
            context,
            policy,
            template_context: Arc::new(template_context),
        }
    }

    /// `$context.authorizer` for a request this decision allows: the context and
    /// `principalId` (API Gateway's own key wins over a context key of that name).
    pub fn template_context(&self) -> Arc<BTreeMap<String, String>> {
        self.template_context.clone()
    }
}

/// A typed statement, as [`statement`] checks its JSON.
fn typed_statement(s: &IamPolicyStatement) -> Result<Statement, String> {
    if s.condition.is_some() {
        return Err(
            "Condition is not evaluated by the emulator (only Effect, Action and Resource are)"
                .into(),
        );
    }
    let allow = match s.effect {
        IamPolicyEffect::Allow => true,
        IamPolicyEffect::Deny => false,
        _ => return Err("Effect must be \"Allow\" or \"Deny\"".into()),
    };
    if s.action.is_empty() {
        return Err("Action is missing".into());
    }
    if s.resource.is_empty() {
        return Err("Resource is missing".into());
    }
    Ok(Statement {
        allow,
        actions: s.action.iter().map(|a| a.to_ascii_lowercase()).collect(),
        resources: s.resource.clone(),
    })
}

/// `context`, every value in its string form (API Gateway hands numbers and booleans to
/// templates as `42`, `true`); `null`, arrays and objects are refused.
fn context_strings(context: Option<&Value>) -> Result<BTreeMap<String, String>, String> {
    {
        let mut context_map = BTreeMap::new();
        match context {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => {
                            return Err(format!(
                                "context.{key} is null; values must be strings, numbers or booleans"
                            ));
                        }
                        Value::Array(_) | Value::Object(_) => {
                            return Err(format!(
                                "context.{key} is an {}; values must be strings, numbers or booleans",
                                if value.is_array() { "array" } else { "object" }
                            ));
                        }
                    };
                    context_map.insert(key.clone(), text);
                }
            }
            Some(_) => return Err("context must be an object".into()),
        }
        Ok(context_map)
    }
}

impl AuthorizerResult {
    /// Evaluates the policy for `method_arn`: explicit Deny wins, then any Allow.
    pub fn evaluate(&self, method_arn: &MethodArn) -> Verdict {
        self.evaluation(method_arn).verdict
    }

    /// [`AuthorizerResult::evaluate`], with the statement that decided.
    pub fn evaluation(&self, method_arn: &MethodArn) -> Evaluation<'_> {
        let mut first_allow = None;
        for (index, statement) in self.statements.iter().enumerate() {
            if !statement
                .actions
                .iter()
                .any(|a| iam_wildcard_match(a, INVOKE))
            {
                continue;
            }
            let Some(resource) = statement
                .resources
                .iter()
                .find(|r| method_arn.matched_by(r))
            else {
                continue;
            };
            if !statement.allow {
                return Evaluation {
                    verdict: Verdict::ExplicitDeny,
                    statement: Some((index, resource.as_str())),
                };
            }
            first_allow.get_or_insert((index, resource.as_str()));
        }
        match first_allow {
            Some(decided) => Evaluation {
                verdict: Verdict::Allow,
                statement: Some(decided),
            },
            None => Evaluation {
                verdict: Verdict::ImplicitDeny,
                statement: None,
            },
        }
    }

    /// Why the policy decides as it does for `method_arn`, in one sentence.
    pub fn explain(&self, method_arn: &MethodArn) -> String {
        let evaluation = self.evaluation(method_arn);
        match (evaluation.verdict, evaluation.statement) {
            (Verdict::Allow, Some((index, resource))) => format!(
                "Statement[{index}] allows execute-api:Invoke on {resource}, which covers {method_arn}"
            ),
            (Verdict::ExplicitDeny, Some((index, resource))) => format!(
                "Statement[{index}] denies execute-api:Invoke on {resource}, which covers {method_arn} (an explicit Deny wins over any Allow)"
            ),
            _ => format!(
                "no statement allows execute-api:Invoke on {method_arn}, so it is denied (implicitly)"
            ),
        }
    }
}

/// What decided a policy's verdict for one method ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evaluation<'a> {
    pub verdict: Verdict,
    /// The deciding statement's index in `Statement` and its `Resource` that matched:
    /// the Deny that matched, else the first Allow that did; `None` for an implicit deny.
    pub statement: Option<(usize, &'a str)>,
}

fn statement(value: &Value) -> Result<Statement, String> {
    let object = value.as_object().ok_or("not an object")?;
    let allow = match object.get("Effect").and_then(Value::as_str) {
        Some("Allow") => true,
        Some("Deny") => false,
        _ => return Err("Effect must be \"Allow\" or \"Deny\"".into()),
    };
    if object.contains_key("NotAction") || object.contains_key("NotResource") {
        return Err("NotAction/NotResource are not supported in authorizer policies".into());
    }
    // Anything else would change the decision in a way not evaluated here, or, like a
    // `"Condition": null`, makes API Gateway fail: AWS answered such a policy with 500
    // AuthorizerConfigurationException (aws/aws-lambda-rust-runtime issue 863, and
    // aws/aws-lambda-dotnet issue 2022 for a null Condition). Refused, never ignored.
    if let Some(key) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "Effect" | "Action" | "Resource"))
    {
        return Err(format!(
            "{key} is not evaluated by the emulator (only Effect, Action and Resource are)"
        ));
    }
    Ok(Statement {
        allow,
        actions: strings(object.get("Action"), "Action")?
            .into_iter()
            .map(|a| a.to_ascii_lowercase())
            .collect(),
        resources: strings(object.get("Resource"), "Resource")?,
    })
}

fn strings(value: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    match value {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{field} must hold strings"))
            })
            .collect(),
        _ => Err(format!("{field} is missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/hello";

    fn arn(text: &str) -> MethodArn {
        text.parse().unwrap()
    }

    fn result(statements: Value) -> AuthorizerResult {
        AuthorizerResult::from_response(&json!({
            "principalId": "u",
            "policyDocument": {"Version": "2012-10-17", "Statement": statements}
        }))
        .unwrap()
    }

    #[test]
    fn explicit_deny_wins_over_allow() {
        let r = result(json!([
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
            {"Effect": "Deny", "Action": ["execute-api:*"], "Resource": [ARN]}
        ]));
        assert_eq!(r.evaluate(&arn(ARN)), Verdict::ExplicitDeny);
        assert_eq!(
            r.evaluate(&arn(&ARN.replace("GET", "POST"))),
            Verdict::Allow
        );
    }

    #[test]
    fn the_explanation_names_the_deciding_statement() {
        let r = result(json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ["arn:x", "arn:*:greetlocal/prod/*/*"]},
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "arn:*/POST/*"}
        ]));
        assert_eq!(
            r.explain(&arn(ARN)),
            format!(
                "Statement[1] allows execute-api:Invoke on arn:*:greetlocal/prod/*/*, which covers {ARN}"
            )
        );
        let post = ARN.replace("GET", "POST");
        assert_eq!(
            r.explain(&arn(&post)),
            format!(
                "Statement[2] denies execute-api:Invoke on arn:*/POST/*, which covers {post} (an explicit Deny wins over any Allow)"
            )
        );
        let other = ARN.replace("prod", "dev");
        assert_eq!(
            r.explain(&arn(&other)),
            format!(
                "no statement allows execute-api:Invoke on {other}, so it is denied (implicitly)"
            )
        );
    }

    #[test]
    fn the_policy_is_kept_as_returned() {
        let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "Execute-API:Invoke", "Resource": "*"}]});
        let r = AuthorizerResult::from_response(
            &json!({"principalId": "u", "policyDocument": document}),
        )
        .unwrap();
        assert_eq!(r.policy, document);
    }

    #[test]
    fn actions_match_without_regard_to_case() {
        let r = result(json!([{"Effect": "Allow", "Action": "Execute-API:*", "Resource": "*"}]));
        assert_eq!(r.evaluate(&arn(ARN)), Verdict::Allow);
    }

    #[test]
    fn no_matching_allow_is_an_implicit_deny() {
        let r = result(json!({"Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:us-east-1:123456789012:greetlocal/prod/GET/other"}));
        assert_eq!(r.evaluate(&arn(ARN)), Verdict::ImplicitDeny);
        let r = result(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]));
        assert_eq!(r.evaluate(&arn(ARN)), Verdict::ImplicitDeny);
    }

    #[test]
    fn context_values_become_strings() {
        let r = AuthorizerResult::from_response(&json!({
            "principalId": "u",
            "policyDocument": {"Statement": []},
            "context": {"name": "Jane", "verified": true, "n": 42, "x": 1.5}
        }))
        .unwrap();
        assert_eq!(r.context["verified"], "true");
        assert_eq!(r.context["n"], "42");
        assert_eq!(r.context["x"], "1.5");
    }

    /// A typed answer is checked exactly as its JSON would be.
    #[test]
    fn a_typed_answer_gets_the_outcome_of_its_json() {
        use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerPolicy;
        let answer = |principal: Option<&str>, effect, action: &[&str], context: Value| {
            let mut statement = IamPolicyStatement::default();
            statement.action = action.iter().map(|a| (*a).to_owned()).collect();
            statement.effect = effect;
            statement.resource = vec![ARN.to_owned()];
            let mut document = ApiGatewayCustomAuthorizerPolicy::default();
            document.statement = vec![statement];
            let mut answer = ApiGatewayCustomAuthorizerResponse::default();
            answer.principal_id = principal.map(str::to_owned);
            answer.policy_document = document;
            answer.context = context;
            answer
        };
        let mut with_condition = answer(Some("u"), IamPolicyEffect::Allow, &["*"], Value::Null);
        with_condition.policy_document.statement[0].condition = Some(Default::default());
        let cases = [
            answer(
                Some("u"),
                IamPolicyEffect::Allow,
                &["execute-api:Invoke"],
                json!({"n": 1, "b": true, "s": "x"}),
            ),
            answer(Some("u"), IamPolicyEffect::Deny, &["*"], Value::Null),
            answer(None, IamPolicyEffect::Allow, &["*"], Value::Null),
            answer(Some(""), IamPolicyEffect::Allow, &["*"], Value::Null),
            answer(Some("u"), IamPolicyEffect::Allow, &[], Value::Null),
            answer(Some("u"), IamPolicyEffect::Allow, &["*"], json!({"a": [1]})),
            with_condition,
        ];
        for typed in cases {
            let json = serde_json::to_value(&typed).unwrap();
            assert_eq!(
                AuthorizerResult::from_typed(&typed),
                AuthorizerResult::from_response(&json),
                "{json}"
            );
        }
    }

    #[test]
    fn malformed_answers_are_refused_with_the_reason() {
        let policy = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let cases = [
            (json!({"policyDocument": policy}), "principalId is missing"),
            (json!({"principalId": "u"}), "policyDocument is missing"),
            (
                json!({"principalId": "u", "policyDocument": policy, "context": {"a": {"b": 1}}}),
                "context.a is an object; values must be strings, numbers or booleans",
            ),
            (
                json!({"principalId": "u", "policyDocument": policy, "context": {"a": [1]}}),
                "context.a is an array; values must be strings, numbers or booleans",
            ),
            (
                json!({"principalId": "u", "policyDocument": {"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}}),
                "Statement[0]: Effect must be \"Allow\" or \"Deny\"",
            ),
            (
                json!({"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "*"}]}}),
                "Statement[0]: Resource is missing",
            ),
            (json!("Allow"), "the answer is not a JSON object"),
            (
                json!({"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": null}]}}),
                "Statement[0]: Condition is not evaluated by the emulator (only Effect, Action and Resource are)",
            ),
        ];
        for (answer, reason) in cases {
            assert_eq!(
                AuthorizerResult::from_response(&answer),
                Err(reason.to_owned()),
                "{answer}"
            );
        }
    }
}
