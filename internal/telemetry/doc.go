// Package telemetry is AccessBot's operations plumbing on the ecosystem's libraries: Prometheus metrics
// (prometheus/client_golang, one registry per process, no global registry), OpenTelemetry traces (OTLP over
// HTTP, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set), trace ids in log lines, an instrumented
// http.RoundTripper for outbound calls (Microsoft Graph, the Bot Connector) and the net/http/pprof debug
// listener.
//
// Packages that record something define a small interface where they use it (server.Metrics,
// botframework.ActivityRecorder, store.Options.Observe, …); *Metrics implements them and cmd/accessbot wires
// one *Metrics into all of them.
package telemetry
