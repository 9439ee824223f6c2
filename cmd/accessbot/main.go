// Command accessbot runs AccessBot, the Microsoft Teams bot for Entra ID entitlement management.
//
//	accessbot serve      run the bot against a real tenant (configuration from environment and flags)
//	accessbot demo       run the bot against the embedded simulated tenants (Contoso + Fabrikam) on loopback
//	accessbot manifest   render the Teams app package (appPackage.zip)
//	accessbot migrate    copy a bbolt state file into PostgreSQL
//	accessbot version    print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/accessbot/accessbot/internal/telemetry"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `AccessBot — Microsoft Entra ID access packages from Microsoft Teams chat.

Usage:
  accessbot serve    [flags]   run the bot (configuration: environment variables, flags override)
  accessbot demo     [flags]   run the bot + embedded simulated tenants on loopback (for the Agents Playground)
  accessbot manifest [flags]   render the Teams app package (appPackage.zip)
  accessbot migrate  [flags]   copy a bbolt state file into PostgreSQL (--from FILE --to URL [--dry-run] [--force])
  accessbot version            print the version

Run "accessbot <command> -h" for the flags of a command.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without os.Exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = runServe(ctx, args[1:], stdout, stderr)
	case "demo":
		err = runDemo(ctx, args[1:], stdout, stderr)
	case "manifest":
		err = runManifest(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "accessbot", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "accessbot: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "accessbot %s: %v\n", args[0], err)
		if errors.As(err, new(usageError)) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks configuration mistakes (exit status 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// newLogger builds the process logger.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lv = slog.LevelDebug
	case "warn":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	// LogHandler adds trace_id and span_id to every line logged with a traced context.
	if format == "json" {
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts)))
}
