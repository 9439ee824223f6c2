// Command iconsgen writes the AccessBot Teams app icons (color.png 192×192, outline.png 32×32) drawn by
// manifest/internal/icons. Run it through `go generate ./manifest` from the repository root.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/accessbot/accessbot/manifest/internal/icons"
)

func main() {
	out := flag.String("out", "assets", "directory to write color.png and outline.png into")
	flag.Parse()
	if err := run(*out); err != nil {
		slog.Error("generate icons", "err", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for name, img := range map[string]image.Image{
		"color.png":   icons.Color(icons.DefaultAccent),
		"outline.png": icons.Outline(),
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		slog.Info("wrote icon", "path", path, "bytes", buf.Len())
	}
	return nil
}
