package manifest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/accessbot/accessbot/manifest/internal/icons"
)

const testBotID = "b0770000-0000-4000-8000-000000000001"

func minimalConfig() Config {
	return Config{BotID: testBotID, ValidDomains: []string{"accessbot.contoso.example"}}
}

func fullConfig() Config {
	return Config{
		BotID:            "B0770000-0000-4000-8000-0000000000AB",
		AppID:            "0f4b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
		Name:             "Contoso Access",
		ShortDescription: "Ask for access in Teams.",
		FullDescription:  "Contoso's access assistant.",
		Developer: Developer{
			Name:       "Contoso IT",
			WebsiteURL: "https://it.contoso.example/accessbot",
			PrivacyURL: "https://it.contoso.example/privacy",
			TermsURL:   "https://it.contoso.example/terms",
		},
		Version:      "2.10.3",
		ValidDomains: []string{"Bot.Contoso.Example", "*.contoso.example", "token.botframework.com", "bot.contoso.example"},
		AccentColor:  "#112233",
	}
}

// compileSchema compiles the vendored Microsoft Teams v1.22 manifest schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/MicrosoftTeams.schema.v1.22.json")
	if err != nil {
		t.Fatalf("open vendored schema: %v", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("parse vendored schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SchemaURL, doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	s, err := c.Compile(SchemaURL)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("manifest.json is not JSON: %v\n%s", err, b)
	}
	return v
}

func TestRenderPassesMicrosoftSchema(t *testing.T) {
	schema := compileSchema(t)
	for name, cfg := range map[string]Config{"minimal": minimalConfig(), "full": fullConfig()} {
		t.Run(name, func(t *testing.T) {
			b, err := Render(cfg)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if err := schema.Validate(decode(t, b)); err != nil {
				t.Fatalf("rendered manifest fails the v1.22 schema:\n%v\n%s", err, b)
			}
		})
	}
}

// The schema check must be able to fail: manifests that break the schema's limits are rejected. (The schema is
// draft-04, so its "const" on manifestVersion is not enforced; TestRenderContent checks that value itself.)
func TestSchemaRejectsBrokenManifests(t *testing.T) {
	schema := compileSchema(t)
	good, err := Render(minimalConfig())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"11 commands in a list", func(m map[string]any) {
			cl := m["bots"].([]any)[0].(map[string]any)["commandLists"].([]any)[0].(map[string]any)
			cmds := cl["commands"].([]any)
			cl["commands"] = append(cmds, map[string]any{"title": "x", "description": "y"})
		}},
		{"bot id not a GUID", func(m map[string]any) { m["bots"].([]any)[0].(map[string]any)["botId"] = "not-a-guid" }},
		{"unknown scope", func(m map[string]any) { m["bots"].([]any)[0].(map[string]any)["scopes"] = []any{"everywhere"} }},
		{"short name over 30", func(m map[string]any) { m["name"].(map[string]any)["short"] = strings.Repeat("n", 31) }},
		{"misspelled property", func(m map[string]any) { m["validDomain"] = []any{"x.example"} }},
		{"accent colour by name", func(m map[string]any) { m["accentColor"] = "blue" }},
		{"developer URL without scheme", func(m map[string]any) { m["developer"].(map[string]any)["websiteUrl"] = "contoso.example" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(decode(t, b)); err == nil {
				t.Fatalf("schema accepted a broken manifest:\n%s", b)
			}
		})
	}
}

func TestPackageIsByteIdentical(t *testing.T) {
	for name, cfg := range map[string]Config{"minimal": minimalConfig(), "full": fullConfig()} {
		t.Run(name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := Package(cfg, &a); err != nil {
				t.Fatalf("Package: %v", err)
			}
			if err := Package(cfg, &b); err != nil {
				t.Fatalf("Package again: %v", err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("two runs differ: %d vs %d bytes", a.Len(), b.Len())
			}
			zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
			if err != nil {
				t.Fatalf("read zip: %v", err)
			}
			var names []string
			files := map[string][]byte{}
			for _, f := range zr.File {
				names = append(names, f.Name)
				if !f.Modified.Equal(zipModTime) {
					t.Errorf("%s modified %v, want fixed %v", f.Name, f.Modified, zipModTime)
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatalf("open %s: %v", f.Name, err)
				}
				files[f.Name], err = io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatalf("read %s: %v", f.Name, err)
				}
			}
			if want := []string{ManifestFile, ColorIcon, OutlineIcon}; !slices.Equal(names, want) {
				t.Fatalf("zip entries %v, want %v (flat, in this order)", names, want)
			}
			rendered, err := Render(cfg)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if !bytes.Equal(files[ManifestFile], rendered) {
				t.Errorf("zipped manifest.json differs from Render's")
			}
			checkPNG(t, files[ColorIcon], icons.ColorSize)
			checkPNG(t, files[OutlineIcon], icons.OutlineSize)
		})
	}
}

func checkPNG(t *testing.T, b []byte, size int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != size || got.Y != size {
		t.Fatalf("icon is %dx%d, want %dx%d", got.X, got.Y, size, size)
	}
	return img
}

func TestIcons(t *testing.T) {
	colorB, outlineB := Icons()
	colorImg := checkPNG(t, colorB, 192)
	outlineImg := checkPNG(t, outlineB, 32)

	// The committed PNGs are what internal/icons draws (run `go generate ./manifest` after changing it).
	samePixels(t, "color.png", colorImg, icons.Color(icons.DefaultAccent))
	samePixels(t, "outline.png", outlineImg, icons.Outline())

	// Outline: only white and transparency, a transparent background, and some visible white.
	var white, transparent int
	b := outlineImg.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := outlineImg.At(x, y).RGBA()
			switch {
			case a == 0:
				transparent++
			case r != a || g != a || bl != a: // premultiplied: white means r == g == b == a
				t.Fatalf("outline pixel (%d,%d) is not white: rgba %d %d %d %d", x, y, r, g, bl, a)
			default:
				white++
			}
		}
	}
	if r, g, bl, a := outlineImg.At(0, 0).RGBA(); a != 0 {
		t.Errorf("outline corner is not transparent: %d %d %d %d", r, g, bl, a)
	}
	if white < 100 || transparent < 400 {
		t.Errorf("outline has %d white and %d transparent pixels: expected a visible glyph on transparency", white, transparent)
	}
	// Colour: opaque, with both the accent background and the white glyph.
	if _, _, _, a := colorImg.At(0, 0).RGBA(); a != 0xFFFF {
		t.Errorf("color icon corner is not opaque")
	}
	if r, g, bl, _ := colorImg.At(96, 60).RGBA(); r>>8 != 0xFF || g>>8 != 0xFF || bl>>8 != 0xFF {
		t.Errorf("color icon centre-top is not the white shield: %x %x %x", r>>8, g>>8, bl>>8)
	}
}

func samePixels(t *testing.T, name string, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("%s: bounds %v, drawn %v", name, got.Bounds(), want.Bounds())
	}
	b := got.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, a1 := got.At(x, y).RGBA()
			r2, g2, b2, a2 := want.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				t.Fatalf("%s differs from the drawing at (%d,%d); run go generate ./manifest", name, x, y)
			}
		}
	}
}

type rendered struct {
	Schema          string `json:"$schema"`
	ManifestVersion string `json:"manifestVersion"`
	Version         string `json:"version"`
	ID              string `json:"id"`
	AccentColor     string `json:"accentColor"`
	Developer       struct {
		Name, WebsiteURL, PrivacyURL, TermsOfUseURL string
	} `json:"developer"`
	Name struct{ Short string } `json:"name"`
	Bots []struct {
		BotID        string   `json:"botId"`
		Scopes       []string `json:"scopes"`
		CommandLists []struct {
			Scopes   []string `json:"scopes"`
			Commands []struct {
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"commands"`
		} `json:"commandLists"`
	} `json:"bots"`
	ValidDomains       []string `json:"validDomains"`
	WebApplicationInfo struct {
		ID       string `json:"id"`
		Resource string `json:"resource"`
	} `json:"webApplicationInfo"`
}

func renderParsed(t *testing.T, cfg Config) rendered {
	t.Helper()
	b, err := Render(cfg)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	var m rendered
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return m
}

func TestRenderContent(t *testing.T) {
	derived, err := DeriveAppID(testBotID)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		cfg         Config
		wantID      string
		wantBot     string
		wantDomains []string
		wantWebsite string
		wantPrivacy string
		wantVersion string
		wantAccent  string
		wantName    string
	}{
		{
			name: "defaults", cfg: minimalConfig(), wantID: derived, wantBot: testBotID,
			wantDomains: []string{"accessbot.contoso.example", "token.botframework.com"},
			wantWebsite: "https://accessbot.contoso.example/", wantPrivacy: "https://accessbot.contoso.example/",
			wantVersion: DefaultVersion, wantAccent: DefaultAccentColor, wantName: DefaultName,
		},
		{
			name: "explicit", cfg: fullConfig(), wantID: "0f4b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
			wantBot:     "b0770000-0000-4000-8000-0000000000ab",
			wantDomains: []string{"bot.contoso.example", "*.contoso.example", "token.botframework.com"},
			wantWebsite: "https://it.contoso.example/accessbot", wantPrivacy: "https://it.contoso.example/privacy",
			wantVersion: "2.10.3", wantAccent: "#112233", wantName: "Contoso Access",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := renderParsed(t, tt.cfg)
			if m.Schema != SchemaURL || m.ManifestVersion != "1.22" {
				t.Errorf("schema %q version %q", m.Schema, m.ManifestVersion)
			}
			if m.ID != tt.wantID {
				t.Errorf("id %q, want %q", m.ID, tt.wantID)
			}
			if len(m.Bots) != 1 || m.Bots[0].BotID != tt.wantBot {
				t.Fatalf("bots %+v, want one bot %q", m.Bots, tt.wantBot)
			}
			if m.WebApplicationInfo.ID != tt.wantBot || m.WebApplicationInfo.Resource != "api://botid-"+tt.wantBot {
				t.Errorf("webApplicationInfo %+v", m.WebApplicationInfo)
			}
			if !slices.Equal(m.ValidDomains, tt.wantDomains) {
				t.Errorf("validDomains %v, want %v", m.ValidDomains, tt.wantDomains)
			}
			for _, d := range m.ValidDomains {
				if strings.ContainsAny(d, ":/ ") {
					t.Errorf("validDomains entry %q is not a bare host", d)
				}
			}
			if m.Developer.WebsiteURL != tt.wantWebsite || m.Developer.PrivacyURL != tt.wantPrivacy {
				t.Errorf("developer %+v", m.Developer)
			}
			if m.Version != tt.wantVersion || m.AccentColor != tt.wantAccent || m.Name.Short != tt.wantName {
				t.Errorf("version %q accent %q name %q", m.Version, m.AccentColor, m.Name.Short)
			}
		})
	}
}

func TestCommandScopes(t *testing.T) {
	m := renderParsed(t, minimalConfig())
	bot := m.Bots[0]
	if want := []string{ScopePersonal, ScopeTeam, ScopeGroupChat}; !slices.Equal(bot.Scopes, want) {
		t.Fatalf("bot scopes %v, want %v", bot.Scopes, want)
	}
	if len(bot.CommandLists) > MaxCommandLists {
		t.Fatalf("%d command lists, at most %d", len(bot.CommandLists), MaxCommandLists)
	}
	seen := map[string]int{}
	titles := map[string][]string{}
	for i, cl := range bot.CommandLists {
		if len(cl.Commands) == 0 || len(cl.Commands) > MaxCommandsPerList {
			t.Errorf("list %d has %d commands, want 1..%d", i, len(cl.Commands), MaxCommandsPerList)
		}
		for _, sc := range cl.Scopes {
			if !slices.Contains(bot.Scopes, sc) {
				t.Errorf("list %d scope %q is not a bot scope", i, sc)
			}
			seen[sc]++
			for _, c := range cl.Commands {
				titles[sc] = append(titles[sc], c.Title)
			}
		}
		dup := map[string]bool{}
		for _, c := range cl.Commands {
			if c.Title == "" || len([]rune(c.Title)) > MaxCommandTitle || c.Description == "" || len([]rune(c.Description)) > MaxCommandDescription {
				t.Errorf("list %d command %q: title/description empty or too long", i, c.Title)
			}
			if dup[c.Title] {
				t.Errorf("list %d repeats %q", i, c.Title)
			}
			dup[c.Title] = true
		}
	}
	for _, sc := range bot.Scopes {
		if seen[sc] != 1 {
			t.Errorf("scope %q is in %d command lists, want exactly 1", sc, seen[sc])
		}
	}
	// Every requester command is in the personal menu, plus the admin entry points.
	for _, c := range RequesterCommands {
		if !slices.Contains(titles[ScopePersonal], c.Title) {
			t.Errorf("personal menu lacks requester command %q", c.Title)
		}
	}
	for _, want := range []string{"/help", "/pending"} {
		if !slices.Contains(titles[ScopePersonal], want) {
			t.Errorf("personal menu lacks admin command %q", want)
		}
	}
	// /help's description names every admin command, so the ones that did not fit the menu are discoverable.
	for _, c := range AdminCommands[1:] {
		if !strings.Contains(AdminCommands[0].Description, c.Title) {
			t.Errorf("/help description does not mention %s", c.Title)
		}
	}
	// Group scopes offer nothing that shows a person's requests in public.
	for _, sc := range []string{ScopeTeam, ScopeGroupChat} {
		for _, title := range titles[sc] {
			if title == "status" || title == "access" || title == "approvals" || strings.HasPrefix(title, "/") {
				t.Errorf("scope %s offers %q", sc, title)
			}
		}
	}
	// CommandLists hands out copies.
	cls := CommandLists()
	cls[0].Commands[0].Title = "changed"
	if CommandLists()[0].Commands[0].Title != "help" {
		t.Errorf("CommandLists exposes internal state")
	}
}

func TestConfigErrors(t *testing.T) {
	with := func(f func(c *Config)) Config { c := minimalConfig(); f(&c); return c }
	tests := []struct {
		name   string
		cfg    Config
		fields []string // the FieldError.Field values expected, in order
		text   string   // a fragment of the message
	}{
		{"missing bot id", with(func(c *Config) { c.BotID = "" }), []string{"bots[0].botId"}, "required"},
		{"bot id not a GUID", with(func(c *Config) { c.BotID = "28:b0770000" }), []string{"bots[0].botId"}, "not a GUID"},
		{"app id not a GUID", with(func(c *Config) { c.AppID = "app" }), []string{"id"}, "not a GUID"},
		{"long name", with(func(c *Config) { c.Name = strings.Repeat("x", 31) }), []string{"name.short"}, "at most 30"},
		{"long short description", with(func(c *Config) { c.ShortDescription = strings.Repeat("x", 81) }), []string{"description.short"}, "at most 80"},
		{"long developer name", with(func(c *Config) { c.Developer.Name = strings.Repeat("x", 33) }), []string{"developer.name"}, "at most 32"},
		{"version with v", with(func(c *Config) { c.Version = "v1.0.0" }), []string{"version"}, "MAJOR.MINOR.PATCH"},
		{"version prerelease", with(func(c *Config) { c.Version = "1.0.0-beta" }), []string{"version"}, "MAJOR.MINOR.PATCH"},
		{"accent without hash", with(func(c *Config) { c.AccentColor = "2F6FDE" }), []string{"accentColor"}, "#RRGGBB"},
		{"http website", with(func(c *Config) { c.Developer.WebsiteURL = "http://contoso.example" }), []string{"developer.websiteUrl"}, "https"},
		{"relative terms", with(func(c *Config) { c.Developer.TermsURL = "/terms" }), []string{"developer.termsOfUseUrl"}, "https"},
		{"no domains", with(func(c *Config) { c.ValidDomains = nil }), []string{"validDomains", "developer.websiteUrl"}, "public host"},
		{"only wildcard and token domain", with(func(c *Config) { c.ValidDomains = []string{"*.contoso.example", "token.botframework.com"} }), []string{"validDomains", "developer.websiteUrl"}, "public host"},
		{"domain with scheme", with(func(c *Config) { c.ValidDomains = append(c.ValidDomains, "https://bot.contoso.example") }), []string{"validDomains[1]"}, "without a scheme"},
		{"domain with path", with(func(c *Config) { c.ValidDomains = append(c.ValidDomains, "bot.contoso.example/api") }), []string{"validDomains[1]"}, "without a path"},
		{"domain with port", with(func(c *Config) { c.ValidDomains = append(c.ValidDomains, "bot.contoso.example:443") }), []string{"validDomains[1]"}, "without a port"},
		{"single label", with(func(c *Config) { c.ValidDomains = append(c.ValidDomains, "localhost") }), []string{"validDomains[1]"}, "fully qualified"},
		{"bad label", with(func(c *Config) { c.ValidDomains = append(c.ValidDomains, "bot_1.contoso.example") }), []string{"validDomains[1]"}, "invalid label"},
		{"inner wildcard", with(func(c *Config) { c.ValidDomains = append(c.ValidDomains, "bot.*.example") }), []string{"validDomains[1]"}, "invalid label"},
		{"empty domain", with(func(c *Config) { c.ValidDomains = append(c.ValidDomains, " ") }), []string{"validDomains[1]"}, "empty"},
		{"too many domains", with(func(c *Config) {
			for _, l := range "abcdefghijklmnop" {
				c.ValidDomains = append(c.ValidDomains, string(l)+".contoso.example")
			}
		}), []string{"validDomains"}, "at most 16"},
		{"several at once", Config{BotID: "x", Version: "1", ValidDomains: []string{"ok.example"}}, []string{"bots[0].botId", "version"}, "not a GUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Render(tt.cfg)
			if err == nil {
				t.Fatalf("Render accepted the config:\n%s", b)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			var fields []string
			for _, f := range ve.Fields {
				fields = append(fields, f.Field)
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("fields %v, want %v (%v)", fields, tt.fields, err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q lacks %q", err, tt.text)
			}
			var buf bytes.Buffer
			if err := Package(tt.cfg, &buf); err == nil || buf.Len() != 0 {
				t.Errorf("Package: err %v, wrote %d bytes; want an error and nothing written", err, buf.Len())
			}
		})
	}
}

func TestDeriveAppID(t *testing.T) {
	if got := uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/accessbot/accessbot#teams-app-id")); got != appIDNamespace {
		t.Fatalf("appIDNamespace %s, derivation gives %s", appIDNamespace, got)
	}
	a, err := DeriveAppID(testBotID)
	if err != nil {
		t.Fatal(err)
	}
	upper, err := DeriveAppID(strings.ToUpper(testBotID))
	if err != nil {
		t.Fatal(err)
	}
	other, err := DeriveAppID("b0770000-0000-4000-8000-000000000002")
	if err != nil {
		t.Fatal(err)
	}
	if a != upper {
		t.Errorf("app id depends on bot id case: %s vs %s", a, upper)
	}
	if a == other {
		t.Errorf("two bot ids give the same app id %s", a)
	}
	u, err := uuid.Parse(a)
	if err != nil || u.Version() != 5 || u.Variant() != uuid.RFC4122 {
		t.Errorf("app id %s is not an RFC 4122 v5 UUID (err %v)", a, err)
	}
	if a == testBotID {
		t.Errorf("app id equals the bot id")
	}
	if _, err := DeriveAppID("28:b0770000-0000-4000-8000-000000000001"); err == nil {
		t.Errorf("DeriveAppID accepted a Teams bot id with the 28: prefix")
	}
}
