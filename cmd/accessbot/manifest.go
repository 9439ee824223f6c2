package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/accessbot/accessbot/manifest"
)

// runManifest renders the Teams app package. Running it twice with the same configuration writes the same bytes.
func runManifest(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		cfg     manifest.Config
		out     string
		domains string
		print   bool
	)
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.BotID, "bot-id", envDefault(osGetenv, "BOT_ID", ""), "the bot's Microsoft App ID (env BOT_ID)")
	fs.StringVar(&cfg.AppID, "app-id", envDefault(osGetenv, "TEAMS_APP_ID", ""), "Teams app id (env TEAMS_APP_ID); default: derived from the bot id, stable")
	fs.StringVar(&domains, "domains", envDefault(osGetenv, "ACCESSBOT_DOMAINS", envDefault(osGetenv, "BOT_DOMAIN", "")), "comma-separated bare host names of the bot (env ACCESSBOT_DOMAINS or BOT_DOMAIN)")
	fs.StringVar(&cfg.Name, "name", envDefault(osGetenv, "ACCESSBOT_APP_NAME", ""), "app name shown in Teams (default AccessBot)")
	fs.StringVar(&cfg.Version, "version", envDefault(osGetenv, "ACCESSBOT_APP_VERSION", ""), "app version MAJOR.MINOR.PATCH")
	fs.StringVar(&cfg.Developer.Name, "developer", envDefault(osGetenv, "ACCESSBOT_DEVELOPER", ""), "publisher name")
	fs.StringVar(&cfg.Developer.WebsiteURL, "website-url", envDefault(osGetenv, "ACCESSBOT_WEBSITE_URL", ""), "publisher website (https)")
	fs.StringVar(&cfg.Developer.PrivacyURL, "privacy-url", envDefault(osGetenv, "ACCESSBOT_PRIVACY_URL", ""), "privacy statement (https)")
	fs.StringVar(&cfg.Developer.TermsURL, "terms-url", envDefault(osGetenv, "ACCESSBOT_TERMS_URL", ""), "terms of use (https)")
	fs.StringVar(&out, "out", "appPackage.zip", "where to write the app package")
	fs.BoolVar(&print, "print", false, "print manifest.json to stdout instead of writing the package")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, d := range strings.Split(domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			cfg.ValidDomains = append(cfg.ValidDomains, d)
		}
	}
	if print {
		raw, err := manifest.Render(cfg)
		if err != nil {
			return usageError{err}
		}
		_, err = stdout.Write(raw)
		return err
	}
	var buf bytes.Buffer
	if err := manifest.Package(cfg, &buf); err != nil {
		return usageError{err}
	}
	if dir := filepath.Dir(out); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): upload it in Teams (Apps → Manage your apps → Upload an app)\n", out, buf.Len())
	return nil
}
