//! Logging: readable on a terminal, JSON lines with `HERALD_LOG_FORMAT=json`; and, with
//! `HERALD_OTLP_ENDPOINT`, OpenTelemetry traces of the same spans sent over OTLP/HTTP.
//!
//! Traces are off by default: then no OpenTelemetry layer is installed and no exporter exists.
//! When on, an HTTP request's span, the Temporal start or signal it makes, the `deliver`
//! activity and its Apprise calls form one trace: `herald_workflows::trace` carries the W3C
//! `traceparent` through the workflow. Spans carry routes, ids and kinds, never a secret (no
//! Apprise URL or key, no token, no query string).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// The trace exporter while traces are on; dropping it sends the spans still buffered.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Drop for Traces {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("warning: the last spans could not be exported: {e}");
        }
    }
}

/// Installs the global subscriber. `RUST_LOG` overrides the default level (`info`). With
/// `otlp_traces` (the receiver's `/v1/traces` URL), spans are exported there too; call it
/// outside of an async runtime (the exporter runs its own blocking HTTP client on the batch
/// thread). Returns the exporter to keep until the end.
pub fn init(format: LogFormat, otlp_traces: Option<&url::Url>) -> Option<Traces> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,temporalio_sdk_core=warn,temporalio_client=warn,sqlx=warn,tower_http=info,h2=warn,hyper=warn")
    });
    let traces = otlp_traces.and_then(|url| match exporter(url) {
        Ok(provider) => Some(Traces { provider }),
        Err(e) => {
            eprintln!("warning: traces are off: cannot set up the OTLP exporter for {url}: {e}");
            None
        }
    });
    // Spans only: log lines are not copied into the traces as span events, so nothing a log
    // line holds (such as a mailed link in log-only mode) reaches the collector.
    let otel = traces.as_ref().map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t.provider.tracer("herald"))
            .with_filter(tracing_subscriber::filter::filter_fn(|meta| meta.is_span()))
    });
    let fmt = tracing_subscriber::fmt::layer().with_span_events(FmtSpan::NONE);
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let result = match format {
        LogFormat::Pretty => registry.with(fmt.compact()).try_init(),
        LogFormat::Json => registry
            .with(fmt.json().flatten_event(true).with_current_span(true).with_span_list(false))
            .try_init(),
    };
    // A subscriber installed already (tests) is fine.
    let _ = result;
    traces
}

fn exporter(url: &url::Url) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.as_str())
        .build()?;
    let resource = Resource::builder()
        .with_service_name("herald")
        .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}
