package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// A policy update (PUT) replaces the whole policy: every property the body leaves out is reset. So
// UpdatePolicy reads the policy as Graph has it now (its complete JSON, with its questions), writes both the
// old and the new policy as our JSON (policyBody) and applies only their difference to what Graph returned:
// a property the edit did not change keeps Graph's value, whatever it is (reviewSettings, custom extension
// stage settings, notification settings, on-behalf requestors, a question's localizations, …). Where a changed
// property holds parts we do not model, the difference is applied inside it: a kept question (same id) or
// choice (same actualValue) keeps its other fields, an approval stage keeps the fields we do not write.

// UpdatePolicy changes the policy after.ID from before to after: only the settings in which after differs
// from before are written; everything else stays as Graph has it.
func (c *Client) UpdatePolicy(ctx context.Context, before, after entitlement.Policy) (entitlement.Policy, error) {
	if err := needID("policy id", after.ID); err != nil {
		return entitlement.Policy{}, err
	}
	newBody, err := policyBody(after)
	if err != nil {
		return entitlement.Policy{}, err
	}
	oldBody, err := policyBody(before)
	if err != nil {
		oldBody = map[string]any{} // nothing known before: every modelled setting is written
	}
	rawURL := c.base + emPath + "assignmentPolicies/" + after.ID
	cur, err := c.rawPolicy(ctx, rawURL)
	if err != nil {
		return entitlement.Policy{}, err
	}
	body := mergePolicyBody(cur, oldBody, newBody)
	if after.PackageID != "" {
		body["accessPackage"] = map[string]any{"id": after.PackageID}
	}
	return c.writePolicy(ctx, abs.PUT, rawURL, "update policy "+after.ID, body, after.PackageID)
}

// rawPolicy reads a policy with its questions as Graph's JSON, uncached (a cached copy could be older than
// what is replaced).
func (c *Client) rawPolicy(ctx context.Context, rawURL string) (map[string]any, error) {
	var out map[string]any
	err := c.call(ctx, "read assignment policy before updating it", func(ctx context.Context) error {
		ri := abs.NewRequestInformation()
		ri.Method = abs.GET
		ri.SetUri(mustURL(rawURL + "?$expand=questions"))
		ri.Headers.TryAdd("Accept", "application/json")
		res, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", errorMapping)
		if err != nil {
			return err
		}
		raw, _ := res.([]byte)
		if err := json.Unmarshal(raw, &out); err != nil || out == nil {
			return fmt.Errorf("decode assignment policy: not a JSON object: %w", err)
		}
		return nil
	})
	return out, err
}

// mergePolicyBody is cur (the policy as Graph returned it) with the difference from oldBody to newBody
// applied. Read-only properties and OData annotations other than @odata.type are left out.
func mergePolicyBody(cur, oldBody, newBody map[string]any) map[string]any {
	out, _ := mergeJSON("", cur, oldBody, newBody).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	delete(out, "createdDateTime")
	delete(out, "modifiedDateTime")
	delete(out, "accessPackage") // an expanded package is not part of the policy
	return stripAnnotations(out).(map[string]any)
}

// mergeJSON applies the change from old to upd (our JSON for the property key) to cur (Graph's JSON).
func mergeJSON(key string, cur, old, upd any) any {
	if reflect.DeepEqual(old, upd) && cur != nil {
		return cur
	}
	switch u := upd.(type) {
	case map[string]any:
		c, ok := cur.(map[string]any)
		if !ok || !sameType(c, u) {
			return u
		}
		o, _ := old.(map[string]any)
		out := maps.Clone(c)
		for k, v := range u {
			out[k] = mergeJSON(k, c[k], o[k], v)
		}
		for k := range o {
			if _, kept := u[k]; !kept {
				delete(out, k)
			}
		}
		return out
	case []any:
		return mergeList(key, cur, old, u)
	}
	return upd
}

// mergeList merges a changed list element by element: questions are matched by id, choices by actualValue,
// approval stages by position; any other list (who may request, approvers) is written as it is now.
func mergeList(key string, cur, old any, upd []any) any {
	match := map[string]string{"questions": "id", "choices": "actualValue", "stages": ""}
	field, merged := match[key]
	c, _ := cur.([]any)
	if !merged || c == nil {
		return upd
	}
	o, _ := old.([]any)
	out := make([]any, 0, len(upd))
	for i, u := range upd {
		ci, oi := find(c, field, u, i), find(o, field, u, i)
		if ci == nil {
			out = append(out, u)
			continue
		}
		if oi == nil {
			oi = map[string]any{} // a new element in a kept place: every field we write is written
		}
		out = append(out, mergeJSON("", ci, oi, u))
	}
	return out
}

// find is the element of list that matches u: the one with the same value of field, or (field "") the i-th.
func find(list []any, field string, u any, i int) any {
	if field == "" {
		if i < len(list) {
			return list[i]
		}
		return nil
	}
	um, _ := u.(map[string]any)
	want, _ := um[field].(string)
	if want == "" {
		return nil
	}
	for _, e := range list {
		if em, _ := e.(map[string]any); em != nil && em[field] == want {
			return e
		}
	}
	return nil
}

// sameType reports whether two objects are of the same OData type (or either names none).
func sameType(a, b map[string]any) bool {
	ta, _ := a["@odata.type"].(string)
	tb, _ := b["@odata.type"].(string)
	return ta == "" || tb == "" || ta == tb
}

// stripAnnotations drops OData annotations (@odata.context, questions@odata.context, …) except @odata.type.
func stripAnnotations(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if strings.Contains(k, "@odata.") && k != "@odata.type" {
				delete(t, k)
				continue
			}
			t[k] = stripAnnotations(e)
		}
	case []any:
		for i, e := range t {
			t[i] = stripAnnotations(e)
		}
	}
	return v
}
