package graph

import (
	"context"
	"fmt"
)

// maxPages bounds how many @odata.nextLink pages one call follows.
const maxPages = 50

// pageOf is what every Graph collection response offers.
type pageOf[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// collect reads the first page and follows @odata.nextLink verbatim (Graph and a faithful fake emit
// absolute links on their own base) until there is none, max items were read (max > 0), or maxPages.
func collect[T any, P pageOf[T]](ctx context.Context, max int, first func(context.Context) (P, error), next func(context.Context, string) (P, error)) ([]T, error) {
	var out []T
	p, err := first(ctx)
	seen := map[string]bool{}
	for n := 1; ; n++ {
		if err != nil {
			return nil, err
		}
		if any(p) == nil {
			return out, nil
		}
		for _, v := range p.GetValue() {
			out = append(out, v)
			if max > 0 && len(out) >= max {
				return out, nil
			}
		}
		link := str(p.GetOdataNextLink())
		if link == "" {
			return out, nil
		}
		if seen[link] {
			return nil, fmt.Errorf("paging: @odata.nextLink %q repeats", link)
		}
		if n >= maxPages {
			return nil, fmt.Errorf("paging: more than %d pages", maxPages)
		}
		seen[link] = true
		p, err = next(ctx, link)
	}
}
