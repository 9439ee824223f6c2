package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
)

// runMigrate copies a bbolt state file into a PostgreSQL database: `accessbot migrate --from FILE --to URL`.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", envDefault(osGetenv, "ACCESSBOT_DATA", ""), "bbolt state file to copy (env ACCESSBOT_DATA); stop the bot first, it holds the file's lock")
	to := fs.String("to", envDefault(osGetenv, "ACCESSBOT_DATABASE_URL", ""), "target PostgreSQL URL (env ACCESSBOT_DATABASE_URL)")
	force := fs.Bool("force", false, "copy into a database that already holds state (rows with the same keys are overwritten)")
	dryRun := fs.Bool("dry-run", false, "print the rows per table that would be copied (and the target's current counts) and change nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *from == "":
		return usageError{errors.New("--from is required: the bbolt state file (accessbot.db)")}
	case *to == "":
		return usageError{errors.New("--to is required: the PostgreSQL URL (postgres://user@host:5432/db?sslmode=require)")}
	}
	if err := checkDatabaseURL(*to); err != nil {
		return usageError{fmt.Errorf("--to: %w", err)}
	}
	if _, err := os.Stat(*from); err != nil {
		return fmt.Errorf("--from %s: %w", *from, err)
	}
	src, err := store.Open(*from, store.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	dump, err := src.Dump(ctx)
	if err != nil {
		return fmt.Errorf("read %s: %w", *from, err)
	}
	dst, err := postgres.Open(ctx, *to, postgres.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = dst.Close() }()
	where := postgres.Redact(*to)
	if *dryRun {
		have, err := dst.Counts(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "dry run: copy %s -> %s (nothing written)\n", *from, where)
		printCounts(stdout, dump.Counts(), have)
		return nil
	}
	if err := dst.Load(ctx, dump, *force); err != nil {
		return err
	}
	have, err := dst.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %s -> %s\n", *from, where)
	printCounts(stdout, dump.Counts(), have)
	return nil
}

// printCounts prints the source's rows per table beside the target's.
func printCounts(w io.Writer, src, dst []store.TableCount) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tsource rows\ttarget rows\t")
	for i, c := range src {
		n := 0
		if i < len(dst) {
			n = dst[i].Rows
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", c.Table, c.Rows, n)
	}
	_ = tw.Flush()
}
