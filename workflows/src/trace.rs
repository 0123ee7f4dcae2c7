//! The W3C trace context across Temporal, for the optional OpenTelemetry traces.
//!
//! Temporal does not carry a trace by itself: the application puts the `traceparent` of the
//! span that starts or signals a workflow into the input or the signal, the workflow keeps the
//! latest one in its state (a value from its history, so replay stays deterministic) and hands
//! it to each `deliver` activity, whose span then continues the same trace. With no
//! OpenTelemetry layer installed (traces off, the default) no span has a trace context:
//! [`current`] returns `None` and nothing travels.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The W3C `traceparent` of the current span (`00-{trace id}-{span id}-{flags}`), or `None`
/// when traces are off or there is no span.
pub fn current() -> Option<String> {
    let context = tracing::Span::current().context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent")
}

/// Makes `span` a child of the span that `traceparent` names; a missing or malformed value
/// leaves it a root. Nothing else is read from it.
pub fn follow(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else { return };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        // Fails only when no OpenTelemetry layer is installed: then there is nothing to join.
        let _ = span.set_parent(parent);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;
    use crate::types::EventSignal;

    fn trace_id(span: &tracing::Span) -> opentelemetry::trace::TraceId {
        span.context().span().span_context().trace_id()
    }

    #[test]
    fn nothing_travels_when_traces_are_off() {
        let _guard = tracing::subscriber::set_default(tracing_subscriber::registry());
        let span = tracing::info_span!("request");
        assert_eq!(span.in_scope(current), None);
        // And what would travel keeps the payloads as they were before traces existed.
        let signal = EventSignal { revision: 3, traceparent: None, refresh: false };
        // ok: test code; a signal that does not serialize must fail the test.
        assert_eq!(serde_json::to_string(&signal).expect("serializes"), r#"{"revision":3}"#); // ok: test code
        // ok: test code; a recorded signal that no longer reads must fail the test.
        let old: EventSignal = serde_json::from_str(r#"{"revision":3}"#).expect("an old signal reads"); // ok: test code
        assert_eq!(old, signal);
    }

    #[test]
    fn the_context_goes_out_and_comes_back() {
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let _guard = tracing::subscriber::set_default(subscriber);
        let parent = tracing::info_span!("temporal.signal");
        // ok: test code; no traceparent inside a span must fail the test.
        let traceparent = parent.in_scope(current).expect("a traceparent inside a span"); // ok: test code
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(
            (parts.len(), parts[0], parts[1].len(), parts[2].len()),
            (4, "00", 32, 16),
            "{traceparent}"
        );
        assert_eq!(parts[1], trace_id(&parent).to_string());

        let child = tracing::info_span!("deliver");
        follow(&child, Some(&traceparent));
        assert_eq!(trace_id(&child), trace_id(&parent), "the child joins the trace");

        for bad in [None, Some("garbage"), Some("00-00000000000000000000000000000000-0000000000000000-01")] {
            let root = tracing::info_span!("deliver");
            follow(&root, bad);
            assert_ne!(trace_id(&root), trace_id(&parent), "{bad:?} starts a trace of its own");
        }
    }
}
