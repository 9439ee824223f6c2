package manifest

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// seedUser is one user of the seed in docs/ARCHITECTURE.md.
type seedUser struct {
	name, first, last, oid, upn, tenant string
}

// readSeed parses the tenants and the Contoso/Fabrikam user tables of docs/ARCHITECTURE.md, so the persona files
// are checked against the documented seed itself, not against a copy of it.
func readSeed(t *testing.T) (tenants map[string]string, users map[string]seedUser) {
	t.Helper()
	f, err := os.Open("../docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatalf("open seed documentation: %v", err)
	}
	defer f.Close()
	tenants = map[string]string{}
	users = map[string]seedUser{}
	tenantRow := regexp.MustCompile("^\\| (Contoso|Fabrikam|Northwind) [^|]*\\| `([0-9a-f-]{36})` \\|")
	userRow := regexp.MustCompile(`^\| (0[0-9]) \| ([A-Z][a-z]+) ([A-Z][a-z]+) \|`)
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Contoso users"):
			section = "Contoso"
		case strings.HasPrefix(line, "Fabrikam users"):
			section = "Fabrikam"
		case strings.HasPrefix(line, "Northwind users"), strings.HasPrefix(line, "Groups"):
			section = ""
		}
		if m := tenantRow.FindStringSubmatch(line); m != nil {
			tenants[m[1]] = m[2]
			continue
		}
		if m := userRow.FindStringSubmatch(line); m != nil && section != "" {
			prefix, domain := "aaaaaaaa", "contoso.example"
			if section == "Fabrikam" {
				prefix, domain = "bbbbbbbb", "fabrikam.example"
			}
			first := strings.ToLower(m[2])
			users[first] = seedUser{
				name: m[2] + " " + m[3], first: m[2], last: m[3],
				oid:    fmt.Sprintf("%s-0000-0000-0000-0000000000%s", prefix, m[1]),
				upn:    first + "@" + domain,
				tenant: section,
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read seed documentation: %v", err)
	}
	if len(tenants) != 3 || len(users) != 11 {
		t.Fatalf("seed parse found %d tenants and %d users, want 3 and 11 (8 Contoso + 3 Fabrikam): did docs/ARCHITECTURE.md change shape?", len(tenants), len(users))
	}
	return tenants, users
}

// persona is the part of a Playground config (format 0.1.1) the test checks.
type persona struct {
	version, tenantID   string
	bot, current        map[string]string
	users               []map[string]string
	personalChat, group map[string]string
	teamKeys            map[string]string
	channels            []map[string]string
}

// parseFlowMap parses a one-line YAML flow mapping such as {id: "29:rita", name: Rita Requester}. Values in the
// persona files contain no commas or braces.
func parseFlowMap(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("not a flow mapping: %q", s)
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s[1:len(s)-1], ",") {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return nil, fmt.Errorf("entry %q has no key", kv)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("duplicate key %q", k)
		}
		out[k] = v
	}
	return out, nil
}

func readPersona(t *testing.T, path string) persona {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var p persona
	p.teamKeys = map[string]string{}
	block := ""
	must := func(m map[string]string, err error) map[string]string {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return m
	}
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.Contains(line, "\t") {
			t.Fatalf("%s:%d: tab in YAML", path, i+1)
		}
		if !strings.HasPrefix(line, " ") {
			key, val, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("%s:%d: not a key: %q", path, i+1, line)
			}
			val = strings.TrimSpace(val)
			block = key
			switch key {
			case "version":
				p.version = strings.Trim(val, `"`)
			case "tenantId":
				p.tenantID = val
			case "bot":
				p.bot = must(parseFlowMap(val))
			case "currentUser":
				p.current = must(parseFlowMap(val))
			case "personalChat":
				p.personalChat = must(parseFlowMap(val))
			case "groupChat":
				p.group = must(parseFlowMap(val))
			case "users", "team":
			default:
				t.Fatalf("%s:%d: unexpected top-level key %q", path, i+1, key)
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case block == "users" && strings.HasPrefix(line, "  - "):
			p.users = append(p.users, must(parseFlowMap(strings.TrimPrefix(trimmed, "- "))))
		case block == "team" && strings.HasPrefix(line, "    - "):
			p.channels = append(p.channels, must(parseFlowMap(strings.TrimPrefix(trimmed, "- "))))
		case block == "team" && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   "):
			k, v, _ := strings.Cut(trimmed, ":")
			p.teamKeys[k] = strings.Trim(strings.TrimSpace(v), `"`)
		default:
			t.Fatalf("%s:%d: unexpected line in %q: %q", path, i+1, block, line)
		}
	}
	return p
}

func checkUser(t *testing.T, where string, got map[string]string, seed map[string]seedUser) seedUser {
	t.Helper()
	first := strings.TrimPrefix(got["id"], "29:")
	s, ok := seed[first]
	if !ok {
		t.Fatalf("%s: id %q names no seed user (want 29:<first name lowercase>)", where, got["id"])
	}
	want := map[string]string{
		"id": "29:" + first, "name": s.name, "userPrincipleName": s.upn, "aadObjectId": s.oid,
		"givenName": s.first, "surname": s.last, "email": s.upn,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, seed says %q", where, k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: keys %v, want exactly %d", where, got, len(want))
	}
	return s
}

func TestPlaygroundPersonas(t *testing.T) {
	tenants, seed := readSeed(t)
	tests := []struct {
		file    string
		tenant  string
		current string
		// contacts: people the persona exchanges cards with; they must be among the 5 other users.
		contacts []string
	}{
		{"requester", "Contoso", "rita", []string{"aaron", "isaiah", "lynne", "patti"}},
		{"approver", "Contoso", "aaron", []string{"rita", "megan", "patti", "isaiah", "lynne"}},
		{"guest", "Fabrikam", "gus", []string{"fiona", "patti"}},
		{"admin", "Contoso", "adele", []string{"patti"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "playground/" + tt.file + ".yml"
			p := readPersona(t, path)
			if p.version != "0.1.1" {
				t.Errorf("version %q, want 0.1.1", p.version)
			}
			if want := tenants[tt.tenant]; p.tenantID != want {
				t.Errorf("tenantId %q, want %s's %q", p.tenantID, tt.tenant, want)
			}
			if p.bot["id"] != "28:b0770000-0000-4000-8000-000000000001" || p.bot["name"] != "AccessBot" || len(p.bot) != 2 {
				t.Errorf("bot %v", p.bot)
			}
			cur := checkUser(t, "currentUser", p.current, seed)
			if cur.first != seed[tt.current].first {
				t.Errorf("currentUser is %s, want %s", cur.name, seed[tt.current].name)
			}
			if cur.tenant != tt.tenant {
				t.Errorf("currentUser %s is in %s, persona tenant is %s", cur.name, cur.tenant, tt.tenant)
			}
			if len(p.users) != 5 {
				t.Fatalf("%d other users, the format wants exactly 5", len(p.users))
			}
			var others []string
			for i, u := range p.users {
				s := checkUser(t, fmt.Sprintf("users[%d]", i), u, seed)
				first := strings.ToLower(s.first)
				if first == tt.current || slices.Contains(others, first) {
					t.Errorf("users[%d] %s repeats the current user or another user", i, s.name)
				}
				others = append(others, first)
			}
			for _, c := range tt.contacts {
				if !slices.Contains(others, c) {
					t.Errorf("users lack %s, whom %s exchanges cards with", seed[c].name, cur.name)
				}
			}
			if !strings.HasPrefix(p.personalChat["id"], "a:") || len(p.personalChat) != 1 {
				t.Errorf("personalChat %v, want {id: a:...}", p.personalChat)
			}
			if !strings.HasPrefix(p.group["id"], "19:") || p.group["name"] == "" {
				t.Errorf("groupChat %v", p.group)
			}
			if !strings.HasPrefix(p.teamKeys["id"], "19:") || p.teamKeys["name"] == "" || len(p.teamKeys["aadGroupId"]) != 36 || len(p.teamKeys) != 4 {
				t.Errorf("team %v, want id, name, aadGroupId, channels", p.teamKeys)
			}
			if len(p.channels) != 1 || !strings.HasPrefix(p.channels[0]["id"], "19:") {
				t.Errorf("team channels %v, want one 19:… channel", p.channels)
			}
		})
	}
}

func TestParseFlowMapErrors(t *testing.T) {
	for _, in := range []string{`id: "x"`, `{id "x"}`, `{id: a, id: b}`} {
		if m, err := parseFlowMap(in); err == nil {
			t.Errorf("parseFlowMap(%q) = %v, want an error", in, m)
		}
	}
	m, err := parseFlowMap(`{id: "29:rita", name: Rita Requester}`)
	if err != nil || m["id"] != "29:rita" || m["name"] != "Rita Requester" || len(m) != 2 {
		t.Errorf("parseFlowMap = %v, %v", m, err)
	}
}
