//! The log lines an in-process function writes during one invocation, for the request's
//! trace: what CloudWatch would hold for it.
//!
//! One global tracing [`Layer`] ([`layer`]) turns each event at INFO or above, written
//! while the gateway runs an invocation ([`apigw::lambda::with_log`], keyed by the task,
//! so parallel requests and parallel tests never mix), into a line shaped like the one
//! the function's own `bootstrap` writes: the JSON of the `authorizer` and `hello`
//! subscribers (`{"level":"INFO","fields":{"message":...,...}}`, no target, no time:
//! CloudWatch stamps each line). INFO is Lambda's default log level. Outside an
//! invocation the layer does nothing but that one check.
//!
//! Built binaries write to their own stdout; see [`crate::functions::ProcessFunction`]
//! for why their lines are not split per invocation.

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Filter, SubscriberExt};

/// The layer that keeps functions' log lines; add it to the process's subscriber (the
/// `local-stack` command does; [`install`] does when there is none).
pub fn layer<S>() -> Filtered<FunctionLogs, FunctionEvents, S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    FunctionLogs.with_filter(FunctionEvents)
}

/// The events [`FunctionLogs`] keeps: INFO and above (Lambda's default level), except the
/// emulator's own (`local::hop`, `local::lambda`), which are not a function's.
///
/// Hand-written rather than a `FilterFn` for its interest: an event it keeps is
/// "sometimes" interesting, never "always", so tracing asks [`Filter::enabled`] for each
/// one. With "always" tracing skips that call, and the per-layer filter state of the
/// thread is whatever the last `enabled` call left: when that call was for an event this
/// filter refused and no layer took (a callsite asked while another thread was still
/// registering it), the flag stays "refused" and the next function line on that thread
/// was dropped (1 run in 6 of local/tests/trace.rs, tracing-subscriber 0.3.23).
#[derive(Debug, Clone, Copy, Default)]
pub struct FunctionEvents;

impl FunctionEvents {
    fn keeps(metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::INFO && !metadata.target().starts_with("local")
    }
}

impl<S> Filter<S> for FunctionEvents {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        Self::keeps(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if Self::keeps(metadata) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::INFO)
    }
}

/// Makes [`layer`] the process's global subscriber unless one is already set (then
/// nothing happens: a subscriber set before, without the layer, keeps no function logs).
///
/// Callers wait until the first call has finished: `set_global_default` refuses a second
/// caller at once, while the first is still registering, and a callsite first hit in that
/// window (a stack started by a parallel test) would cache "disabled" for good. The
/// interest cache is rebuilt afterwards for the same reason.
pub fn install() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ =
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer()));
        tracing::callsite::rebuild_interest_cache();
    });
}

/// See [`layer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FunctionLogs;

impl<S: Subscriber> Layer<S> for FunctionLogs {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !apigw::lambda::capturing() {
            return;
        }
        apigw::lambda::log_line(line(event));
    }
}

/// One event as the Lambdas' JSON subscribers write it.
fn line(event: &Event<'_>) -> String {
    let mut fields = Fields(Map::new());
    event.record(&mut fields);
    let mut line = Map::new();
    line.insert(
        "level".into(),
        Value::from(event.metadata().level().as_str()),
    );
    line.insert("fields".into(), Value::Object(fields.0));
    Value::Object(line).to_string()
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `message` and `%display` fields arrive here; their Debug is their text.
        self.0
            .insert(field.name().into(), Value::from(format!("{value:?}")));
    }
}
