package bot

import (
	"slices"
	"sort"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// maxPackageSuggestions is how many close packages an unknown package name is answered with.
const maxPackageSuggestions = 3

// closestPackages ranks the packages a user may request by how well their names fit what was typed: each
// typed word scores against the name's best-fitting word (the same word 3, a typo away 2, a prefix 1), so
// "Falcon Unicorn Access" finds "Falcon Team Member" and "Falcon Production Access", and "Falcn Wiki" finds
// "Falcon Wiki Reader". Packages with no fitting word are left out; ties go to the shorter edit distance of
// the whole name, then the name.
func closestPackages(typed string, pkgs []entitlement.Package, max int) []entitlement.Package {
	words := nameWords(typed)
	if len(words) == 0 {
		return nil
	}
	type scored struct {
		p     entitlement.Package
		score int
		dist  int
	}
	var out []scored
	for _, p := range pkgs {
		name := nameWords(p.Name)
		score := 0
		for _, w := range words {
			score += wordFit(w, name)
		}
		if score > 0 {
			out = append(out, scored{p, score, levenshtein(strings.ToLower(typed), strings.ToLower(p.Name))})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		switch {
		case out[i].score != out[j].score:
			return out[i].score > out[j].score
		case out[i].dist != out[j].dist:
			return out[i].dist < out[j].dist
		}
		return out[i].p.Name < out[j].p.Name
	})
	var res []entitlement.Package
	for i := 0; i < len(out) && i < max; i++ {
		res = append(res, out[i].p)
	}
	return res
}

// wordFit scores one typed word against a name's words.
func wordFit(w string, name []string) int {
	best := 0
	for _, n := range name {
		fit := 0
		limit := 1
		if len(n) > 6 {
			limit = 2
		}
		switch {
		case w == n:
			fit = 3
		case len(w) >= 4 && levenshtein(w, n) <= limit:
			fit = 2
		case len(w) >= 3 && (strings.HasPrefix(n, w) || strings.HasPrefix(w, n) && len(n) >= 3):
			fit = 1
		}
		best = max(best, fit)
	}
	return best
}

// nameWords are the lower-cased words of a name, without stop words and one-letter words.
func nameWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	}) {
		if len(w) >= 2 && !stopWords[w] && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}
