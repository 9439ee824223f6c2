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
// absolute links on their own base) until there is none, or fails past maxPages.
func collect[T any, P pageOf[T]](ctx context.Context, first func(context.Context) (P, error), next func(context.Context, string) (P, error)) ([]T, error) {
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
		out = append(out, p.GetValue()...)
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

// listBuilder is a kiota collection request builder: Get with a request configuration, and WithUrl to
// address a @odata.nextLink page with the same builder type.
type listBuilder[B, C, P any] interface {
	Get(ctx context.Context, cfg C) (P, error)
	WithUrl(rawURL string) B
}

// collectAll is collect over a kiota builder: the first page is read with cfg, the next pages by their
// link with no configuration (the link carries the query).
func collectAll[T any, P pageOf[T], C any, B listBuilder[B, C, P]](ctx context.Context, b B, cfg C) ([]T, error) {
	var none C
	return collect[T](ctx,
		func(ctx context.Context) (P, error) { return b.Get(ctx, cfg) },
		func(ctx context.Context, u string) (P, error) { return b.WithUrl(u).Get(ctx, none) })
}
