// Package manifest renders the AccessBot Microsoft Teams app package: manifest.json (schema v1.22) plus the
// colour and outline icons, zipped byte-identically on every run.
//
// Schema version: the manifest targets v1.22, the newest version whose JSON schema (shipped in the npm package
// @microsoft/app-manifest) compiles with Go's regexp. From v1.23 the schema carries a lookahead pattern (for
// Excel .xll custom functions, which AccessBot does not use) that Go's RE2 engine rejects, so validating a newer
// version offline would need an extra regexp dependency for no field a bot uses. v1.22 has everything the bot
// needs: bots with personal/team/groupChat scopes and command lists, webApplicationInfo for SSO, validDomains.
//
// The PNG icons under assets/ are drawn by internal/icons; regenerate them with `go generate ./manifest`.
package manifest

//go:generate go run ./internal/iconsgen -out assets

import (
	"archive/zip"
	"bytes"
	_ "embed" // icons are embedded
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Schema identification of the rendered manifest.
const (
	// ManifestVersion is the Teams app manifest schema version the package targets.
	ManifestVersion = "1.22"
	// SchemaURL is the $schema the rendered manifest.json declares.
	SchemaURL = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.22/MicrosoftTeams.schema.json"
	// BotFrameworkTokenDomain is always listed in validDomains: Teams SSO and OAuth cards go through it.
	BotFrameworkTokenDomain = "token.botframework.com"
)

// Defaults applied to empty Config fields.
const (
	DefaultName             = "AccessBot"
	DefaultShortDescription = "Request, approve and manage access packages in Teams."
	DefaultFullDescription  = "AccessBot brings Microsoft Entra ID entitlement management into Teams chat. " +
		"Find the access packages you may request, answer the policy's questions and follow your request; " +
		"approvers decide on a card; partner users are guided through the guest invitation and the switch to " +
		"the resource tenant; admins manage connected organizations, catalogs, packages and assignments " +
		"with slash commands."
	DefaultDeveloperName = "AccessBot"
	DefaultVersion       = "1.0.0"
	DefaultAccentColor   = "#2F6FDE"
)

// File names inside appPackage.zip.
const (
	ManifestFile = "manifest.json"
	ColorIcon    = "color.png"
	OutlineIcon  = "outline.png"
)

// appIDNamespace is the UUID v5 namespace for Teams app ids derived from a bot id:
// uuid.NewSHA1(uuid.NameSpaceURL, "https://github.com/accessbot/accessbot#teams-app-id") (checked by a test).
var appIDNamespace = uuid.MustParse("c3682ee4-dace-5b16-ba9a-55de3c69d561")

// zipModTime is the modification time of every entry in appPackage.zip, so the zip is byte-identical.
var zipModTime = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

//go:embed assets/color.png
var colorPNG []byte

//go:embed assets/outline.png
var outlinePNG []byte

// Developer identifies the publisher shown in Teams' app details.
type Developer struct {
	// Name is the publisher's display name (≤ 32 characters). Default DefaultDeveloperName.
	Name string
	// WebsiteURL, PrivacyURL and TermsURL are https URLs. WebsiteURL defaults to https://<first ValidDomains
	// host>/; PrivacyURL and TermsURL default to WebsiteURL.
	WebsiteURL string
	PrivacyURL string
	TermsURL   string
}

// Config is everything the manifest is rendered from. Only BotID and ValidDomains are required; other empty
// fields take the defaults documented on each field.
type Config struct {
	// BotID is the bot's Microsoft App ID (the Entra app registration's client id), a GUID. Required.
	BotID string
	// AppID is the Teams app id (a GUID). Empty: derived from BotID with DeriveAppID, so it stays stable.
	AppID string
	// Name is the app's short name (≤ 30 characters). Default DefaultName.
	Name string
	// ShortDescription (≤ 80 characters) and FullDescription (≤ 4000). Defaults DefaultShortDescription and
	// DefaultFullDescription.
	ShortDescription string
	FullDescription  string
	// Developer is the publisher information.
	Developer Developer
	// Version is the app version, MAJOR.MINOR.PATCH with numbers only. Default DefaultVersion.
	Version string
	// ValidDomains are bare host names (no scheme, port or path; a leading "*." wildcard is allowed) the app
	// trusts; at least one, the bot's public host. token.botframework.com is always added.
	ValidDomains []string
	// AccentColor is "#RRGGBB". Default DefaultAccentColor.
	AccentColor string
}

// FieldError is one invalid Config field.
type FieldError struct {
	// Field names the manifest property the Config field feeds, e.g. "developer.websiteUrl".
	Field string
	// Problem says what was wrong and what is expected.
	Problem string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Problem }

// ValidationError lists every invalid field of a Config.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid manifest config: " + strings.Join(parts, "; ")
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)
	semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	colorRE  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	labelRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// DeriveAppID returns the Teams app id for a bot id: a name-based UUID v5 of the lower-cased bot id in
// AccessBot's namespace. The same bot id always gives the same app id.
func DeriveAppID(botID string) (string, error) {
	if !guidRE.MatchString(botID) {
		return "", fmt.Errorf("derive app id: bot id %q is not a GUID", botID)
	}
	return uuid.NewSHA1(appIDNamespace, []byte(strings.ToLower(botID))).String(), nil
}

// resolved is a Config with defaults applied and every field checked.
type resolved struct {
	Config
	domains []string
}

func resolve(cfg Config) (resolved, error) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	r := resolved{Config: cfg}

	r.BotID = strings.ToLower(strings.TrimSpace(cfg.BotID))
	switch {
	case r.BotID == "":
		bad("bots[0].botId", "the bot id (BOT_ID, the app registration's client id) is required")
	case !guidRE.MatchString(r.BotID):
		bad("bots[0].botId", "%q is not a GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", cfg.BotID)
	}
	r.AppID = strings.ToLower(strings.TrimSpace(cfg.AppID))
	if r.AppID != "" && !guidRE.MatchString(r.AppID) {
		bad("id", "Teams app id %q is not a GUID (leave it empty to derive it from the bot id)", cfg.AppID)
	}
	if r.AppID == "" && guidRE.MatchString(r.BotID) {
		r.AppID, _ = DeriveAppID(r.BotID) // cannot fail: the bot id was just checked
	}

	text := func(field string, v *string, def string, max int) {
		*v = strings.TrimSpace(*v)
		if *v == "" {
			*v = def
		}
		if n := len([]rune(*v)); n > max {
			bad(field, "%d characters, at most %d allowed", n, max)
		}
	}
	text("name.short", &r.Name, DefaultName, 30)
	text("description.short", &r.ShortDescription, DefaultShortDescription, 80)
	text("description.full", &r.FullDescription, DefaultFullDescription, 4000)
	text("developer.name", &r.Developer.Name, DefaultDeveloperName, 32)

	r.Version = strings.TrimSpace(cfg.Version)
	if r.Version == "" {
		r.Version = DefaultVersion
	}
	if !semverRE.MatchString(r.Version) {
		bad("version", "%q is not MAJOR.MINOR.PATCH with numbers only (e.g. 1.0.0)", cfg.Version)
	}
	r.AccentColor = strings.TrimSpace(cfg.AccentColor)
	if r.AccentColor == "" {
		r.AccentColor = DefaultAccentColor
	}
	if !colorRE.MatchString(r.AccentColor) {
		bad("accentColor", "%q is not an HTML colour #RRGGBB", cfg.AccentColor)
	}

	seen := map[string]bool{}
	var publicHost string
	for i, d := range cfg.ValidDomains {
		host, problem := checkDomain(d)
		if problem != "" {
			bad(fmt.Sprintf("validDomains[%d]", i), "%q %s", d, problem)
			continue
		}
		if seen[host] {
			continue
		}
		seen[host] = true
		r.domains = append(r.domains, host)
		if publicHost == "" && host != BotFrameworkTokenDomain && !strings.HasPrefix(host, "*.") {
			publicHost = host
		}
	}
	if !seen[BotFrameworkTokenDomain] {
		r.domains = append(r.domains, BotFrameworkTokenDomain)
	}
	if publicHost == "" {
		bad("validDomains", "the bot's public host name is required (e.g. accessbot.contoso.com)")
	}
	if len(r.domains) > 16 {
		bad("validDomains", "%d domains, at most 16 allowed (token.botframework.com included)", len(r.domains))
	}

	defURL := ""
	if publicHost != "" {
		defURL = "https://" + publicHost + "/"
	}
	link := func(field string, v *string, def string) bool {
		*v = strings.TrimSpace(*v)
		if *v == "" {
			*v = def
		}
		if *v == "" {
			bad(field, "an https URL is required (the default https://<public host>/ needs a host in validDomains)")
			return false
		}
		u, err := url.Parse(*v)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			bad(field, "%q is not an absolute https URL", *v)
			return false
		}
		return true
	}
	websiteOK := link("developer.websiteUrl", &r.Developer.WebsiteURL, defURL)
	for _, f := range []struct {
		field string
		v     *string
	}{{"developer.privacyUrl", &r.Developer.PrivacyURL}, {"developer.termsOfUseUrl", &r.Developer.TermsURL}} {
		if strings.TrimSpace(*f.v) == "" && !websiteOK {
			continue // would default to the website URL, already reported
		}
		link(f.field, f.v, r.Developer.WebsiteURL)
	}

	if len(errs) > 0 {
		return resolved{}, &ValidationError{Fields: errs}
	}
	return r, nil
}

// checkDomain returns the normalised host, or a problem description.
func checkDomain(d string) (string, string) {
	host := strings.ToLower(strings.TrimSpace(d))
	switch {
	case host == "":
		return "", "is empty"
	case strings.Contains(host, "://"):
		return "", "must be a bare host name without a scheme (drop https://)"
	case strings.ContainsAny(host, "/?#"):
		return "", "must be a bare host name without a path"
	case strings.Contains(host, ":"):
		return "", "must be a bare host name without a port"
	case len(host) > 253:
		return "", "is longer than 253 characters"
	}
	name := strings.TrimPrefix(host, "*.")
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return "", "must be a fully qualified host name (e.g. accessbot.contoso.com)"
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return "", fmt.Sprintf("has an invalid label %q (letters, digits and inner hyphens, 1–63 characters; only a leading *. wildcard)", l)
		}
	}
	return host, ""
}

// Render returns manifest.json for cfg: deterministic, indented JSON ending in a newline.
func Render(cfg Config) ([]byte, error) {
	r, err := resolve(cfg)
	if err != nil {
		return nil, fmt.Errorf("render manifest: %w", err)
	}
	b, err := r.render()
	if err != nil {
		return nil, fmt.Errorf("render manifest: %w", err)
	}
	return b, nil
}

// Package writes appPackage.zip (manifest.json, color.png, outline.png, in that order, with fixed
// modification times) to w. The same Config always produces the same bytes.
func Package(cfg Config, w io.Writer) error {
	m, err := Render(cfg)
	if err != nil {
		return fmt.Errorf("package app: %w", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{ManifestFile, m}, {ColorIcon, colorPNG}, {OutlineIcon, outlinePNG}} {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: zipModTime}
		h.SetMode(0o644)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("package app: add %s: %w", f.name, err)
		}
		if _, err := fw.Write(f.data); err != nil {
			return fmt.Errorf("package app: write %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("package app: close zip: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("package app: write zip: %w", err)
	}
	return nil
}

// Icons returns the PNG bytes of the colour (192×192) and outline (32×32) icons packaged with the app.
func Icons() (color, outline []byte) {
	return bytes.Clone(colorPNG), bytes.Clone(outlinePNG)
}

// wire types: field order here is the order in manifest.json.
type (
	wireManifest struct {
		Schema             string       `json:"$schema"`
		ManifestVersion    string       `json:"manifestVersion"`
		Version            string       `json:"version"`
		ID                 string       `json:"id"`
		Developer          wireDev      `json:"developer"`
		Name               wireText     `json:"name"`
		Description        wireText     `json:"description"`
		Icons              wireIcons    `json:"icons"`
		AccentColor        string       `json:"accentColor"`
		Bots               []wireBot    `json:"bots"`
		Permissions        []string     `json:"permissions"`
		ValidDomains       []string     `json:"validDomains"`
		WebApplicationInfo wireWebApp   `json:"webApplicationInfo"`
		DefaultInstall     string       `json:"defaultInstallScope"`
		DefaultGroupCap    wireGroupCap `json:"defaultGroupCapability"`
	}
	wireDev struct {
		Name       string `json:"name"`
		WebsiteURL string `json:"websiteUrl"`
		PrivacyURL string `json:"privacyUrl"`
		TermsURL   string `json:"termsOfUseUrl"`
	}
	// wireText is a short and a full text (the app's name, its description).
	wireText struct {
		Short string `json:"short"`
		Full  string `json:"full"`
	}
	wireIcons struct {
		Color   string `json:"color"`
		Outline string `json:"outline"`
	}
	wireBot struct {
		BotID              string            `json:"botId"`
		Scopes             []string          `json:"scopes"`
		SupportsFiles      bool              `json:"supportsFiles"`
		IsNotificationOnly bool              `json:"isNotificationOnly"`
		CommandLists       []wireCommandList `json:"commandLists"`
	}
	wireCommandList struct {
		Scopes   []string      `json:"scopes"`
		Commands []wireCommand `json:"commands"`
	}
	wireCommand struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	wireWebApp struct {
		ID       string `json:"id"`
		Resource string `json:"resource"`
	}
	wireGroupCap struct {
		Team      string `json:"team"`
		GroupChat string `json:"groupchat"`
	}
)

func (r resolved) render() ([]byte, error) {
	lists := make([]wireCommandList, 0, len(commandLists))
	for _, cl := range commandLists {
		wl := wireCommandList{Scopes: []string{cl.Scope}}
		for _, c := range cl.Commands {
			wl.Commands = append(wl.Commands, wireCommand{Title: c.Title, Description: c.Description})
		}
		lists = append(lists, wl)
	}
	m := wireManifest{
		Schema:          SchemaURL,
		ManifestVersion: ManifestVersion,
		Version:         r.Version,
		ID:              r.AppID,
		Developer: wireDev{
			Name:       r.Developer.Name,
			WebsiteURL: r.Developer.WebsiteURL,
			PrivacyURL: r.Developer.PrivacyURL,
			TermsURL:   r.Developer.TermsURL,
		},
		Name:        wireText{Short: r.Name, Full: r.Name},
		Description: wireText{Short: r.ShortDescription, Full: r.FullDescription},
		Icons:       wireIcons{Color: ColorIcon, Outline: OutlineIcon},
		AccentColor: r.AccentColor,
		Bots: []wireBot{{
			BotID:        r.BotID,
			Scopes:       []string{ScopePersonal, ScopeTeam, ScopeGroupChat},
			CommandLists: lists,
		}},
		Permissions:        []string{"identity", "messageTeamMembers"},
		ValidDomains:       r.domains,
		WebApplicationInfo: wireWebApp{ID: r.BotID, Resource: "api://botid-" + r.BotID},
		DefaultInstall:     ScopePersonal,
		DefaultGroupCap:    wireGroupCap{Team: "bot", GroupChat: "bot"},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest.json: %w", err)
	}
	return buf.Bytes(), nil
}
