package telemetry

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestSampleHeap runs this test binary once per choice (SampleHeap changes the process for good): heap
// sampling stays at the runtime's default with the profiler and is off without it, and a second call changes
// nothing.
func TestSampleHeap(t *testing.T) {
	if choice := os.Getenv("SAMPLE_HEAP_CHILD"); choice != "" {
		SampleHeap(choice == "profiler")
		SampleHeap(choice != "profiler")
		fmt.Printf("rate=%d\n", runtime.MemProfileRate)
		return
	}
	def := runtime.MemProfileRate
	for _, tc := range []struct {
		choice string
		want   int
	}{{"profiler", def}, {"none", 0}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSampleHeap$")
		cmd.Env = append(os.Environ(), "SAMPLE_HEAP_CHILD="+tc.choice)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.choice, err, out)
		}
		if want := fmt.Sprintf("rate=%d\n", tc.want); !strings.Contains(string(out), want) {
			t.Errorf("%s: the child printed %q, want %q", tc.choice, out, want)
		}
	}
}
