package i18n

import (
	"fmt"
	"io/fs"
	"path"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// catalog is the parsed catalogs. T and N render nearly every message themselves (a message: literal text and
// {{.Field}} actions); only the few others (conditionals, pipelines, other delimiters) go into go-i18n's bundle,
// which keeps a parsed template per plural form of each message it holds: holding all of them cost 2.5 MB of
// live heap, the largest part of the bot's, for messages T and N never ask it for.
type catalog struct {
	// messages holds every message by language and id: a *message, or nil for one the bundle renders.
	messages map[string]map[string]*message
	// bundle holds the messages of every id that is nil in some language (in each language that has it, so
	// that go-i18n's fallback to English finds the English one), and the plural probe (pluralRules).
	bundle *goi18n.Bundle
}

// loadCatalogs parses every catalog/*.json in fsys (catalog/<area>.<lang>.json). On an error it returns what
// it could parse before it, with the error.
func loadCatalogs(fsys fs.FS) (*catalog, error) {
	c := &catalog{messages: map[string]map[string]*message{}, bundle: goi18n.NewBundle(language.English)}
	files, err := parseCatalogFiles(fsys)
	toBundle := map[string]bool{} // ids some language leaves to go-i18n
	for _, f := range files {
		lang := f.Tag.String()
		if c.messages[lang] == nil {
			c.messages[lang] = map[string]*message{}
		}
		for _, m := range f.Messages {
			if m.Zero+m.One+m.Two+m.Few+m.Many+m.Other == "" {
				// go-i18n keeps no template for a message with no text (its language lacks it: English's is used)
				delete(c.messages[lang], m.ID)
				continue
			}
			pm := parseMessage(m)
			c.messages[lang][m.ID] = pm
			if pm == nil {
				toBundle[m.ID] = true
			}
		}
	}
	for _, f := range files {
		var keep []*goi18n.Message
		for _, m := range f.Messages {
			if toBundle[m.ID] {
				keep = append(keep, m)
			}
		}
		// Called for every file, with no messages too: it registers the language (and rejects one without
		// plural rules) as parsing the file into the bundle would.
		if aerr := c.bundle.AddMessages(f.Tag, keep...); aerr != nil && err == nil {
			err = fmt.Errorf("load catalog %s: %w", f.Path, aerr)
		}
	}
	return c, err
}

// parseCatalogFiles parses every catalog/*.json in fsys, stopping at the first that fails.
func parseCatalogFiles(fsys fs.FS) ([]*goi18n.MessageFile, error) {
	names, err := fs.Glob(fsys, "catalog/*.json")
	if err != nil {
		return nil, fmt.Errorf("list catalogs: %w", err)
	}
	var files []*goi18n.MessageFile
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return files, fmt.Errorf("read catalog %s: %w", name, err)
		}
		f, err := goi18n.ParseMessageFileBytes(raw, path.Base(name), nil)
		if err != nil {
			return files, fmt.Errorf("parse catalog %s: %w", name, err)
		}
		files = append(files, f)
	}
	return files, nil
}

// localizers builds a Localizer per language of langs (English, the fallback, must be one) from c.
func (c *catalog) localizers(langs []string) (map[string]*Localizer, error) {
	out := make(map[string]*Localizer, len(langs))
	var firstErr error
	for _, l := range langs {
		rules, err := newPluralRules(c.bundle, l)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("plural rules of %s: %w", l, err)
		}
		out[l] = &Localizer{lang: l, loc: goi18n.NewLocalizer(c.bundle, l), messages: c.messages[l], rules: rules}
	}
	if en := out["en"]; en != nil {
		for l, loc := range out {
			if l != "en" {
				loc.fallback, loc.fallbackRules = en.messages, en.rules
			}
		}
	}
	return out, firstErr
}
