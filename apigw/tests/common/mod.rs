//! What the gateway tests share: the stage they run.

use std::collections::BTreeMap;
use std::sync::Arc;

use apigw::gateway::GatewaySettings;
use apigw::{ApiDefinition, Clock, LambdaFunction};

/// The site origin the tests' stage allows (its CORS headers name it).
#[allow(dead_code)] // not every test file checks CORS
pub const ORIGIN: &str = "http://127.0.0.1:4100";

/// The `prod` stage of `definition` with `functions` by logical name: no stage
/// variables, the definition's cache TTLs, the real clock, quiet. A test that needs
/// another value sets that field: `GatewaySettings { clock, ..settings(..) }`.
pub fn settings<const N: usize>(
    definition: ApiDefinition,
    functions: [(&str, Arc<dyn LambdaFunction>); N],
) -> GatewaySettings {
    GatewaySettings {
        definition: Arc::new(definition),
        stage: "prod".into(),
        stage_variables: BTreeMap::new(),
        site_origin: ORIGIN.into(),
        functions: functions
            .into_iter()
            .map(|(name, function)| (name.to_owned(), function))
            .collect(),
        ttl_override: None,
        clock: Clock::default(),
        verbose: false,
    }
}
