package telemetry

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"go.opentelemetry.io/otel"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// TestSetupTracingOffInstallsNoop: in a process where nothing installed a tracer provider yet, as in the binary,
// SetupTracing without an endpoint installs the no-op provider, whose spans cost no allocation of their own
// (the global default allocates one per Start). The other tests install providers of their own, so the check
// runs in a child process of this test binary.
func TestSetupTracingOffInstallsNoop(t *testing.T) {
	const child = "ACCESSBOT_TEST_TRACING_OFF_CHILD"
	if os.Getenv(child) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSetupTracingOffInstallsNoop$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), child+"=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child process: %v\n%s", err, out)
		}
		return
	}
	if otel.GetTracerProvider() != defaultProvider {
		t.Fatal("a tracer provider is installed before SetupTracing: the test proves nothing")
	}
	if _, err := SetupTracing(context.Background(), TracingConfig{Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	if tp := otel.GetTracerProvider(); tp != (tracenoop.TracerProvider{}) {
		t.Fatalf("tracing off left %T installed, want the no-op provider", tp)
	}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { _, span := Tracer().Start(ctx, "x"); span.End() }); n > 1 {
		t.Errorf("a span with tracing off allocates %.0f times, want at most 1 (the context)", n)
	}
}
