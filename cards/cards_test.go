package cards

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite cards/testdata/golden/*.json from the current constructors")

const goldenDir = "testdata/golden"

// indented is the golden form of a card: its JSON() output, indented.
func indented(t *testing.T, c *Card) []byte {
	t.Helper()
	raw, err := c.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatalf("indent: %v", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	cases := goldenCases()
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if seen[tc.name] {
				t.Fatalf("duplicate golden name %q", tc.name)
			}
			seen[tc.name] = true
			got := indented(t, tc.card)
			path := filepath.Join(goldenDir, tc.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test ./cards -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("card %s differs from %s (run go test ./cards -update and review the diff):\n%s",
					tc.name, path, firstDiff(string(want), string(got)))
			}
		})
	}
	// Every golden file belongs to a case: a renamed card must not leave a stale file behind.
	files, err := goldenFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(f), goldenDir+"/"), ".json")
		if !seen[name] {
			if *update {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("golden file %s has no test case", f)
		}
	}
}

// goldenFiles lists the golden files of every language.
func goldenFiles() ([]string, error) {
	en, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		return nil, err
	}
	de, err := filepath.Glob(filepath.Join(goldenDir, germanDir, "*.json"))
	return append(en, de...), err
}

// firstDiff shows the first differing line of two texts with its neighbours.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(no line differs)"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestCardEnvelope(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := tc.card.JSON()
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if m["$schema"] != SchemaURL || m["type"] != "AdaptiveCard" || m["version"] != "1.5" {
				t.Errorf("envelope = %v %v %v", m["$schema"], m["type"], m["version"])
			}
			if fb, _ := m["fallbackText"].(string); fb == "" || strings.Contains(fb, "{{") {
				t.Errorf("fallbackText = %q, want a plain sentence", fb)
			}
			if bytes.Contains(raw, []byte(`\u003c`)) || bytes.Contains(raw, []byte(`\u0026`)) {
				t.Errorf("JSON escapes HTML characters: %s", raw)
			}
			// omitempty everywhere: no empty strings, nulls, empty arrays or empty objects.
			for _, bad := range []string{`:""`, `:null`, `:[]`, `:{}`, `:false`, `:0,`} {
				if bytes.Contains(raw, []byte(bad)) {
					t.Errorf("card has an empty value %s", bad)
				}
			}
			if len(raw) > MaxCardBytes {
				t.Errorf("card is %d bytes, limit %d", len(raw), MaxCardBytes)
			}
		})
	}
}

func TestNilCardJSON(t *testing.T) {
	var c *Card
	if _, err := c.JSON(); err == nil {
		t.Fatal("JSON of a nil card: want an error")
	}
}

func TestLargeViewsStayUnderLimit(t *testing.T) {
	for _, tc := range largeCases() {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := tc.card.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) > MaxCardBytes {
				t.Fatalf("card is %d bytes, limit %d", len(raw), MaxCardBytes)
			}
			t.Logf("%d bytes", len(raw))
		})
	}
}
