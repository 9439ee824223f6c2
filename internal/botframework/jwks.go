package botframework

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// keyRefreshInterval is how long fetched signing keys are used before the metadata is read again.
	keyRefreshInterval = 24 * time.Hour
	// keyRefetchMinInterval limits refetches caused by unknown key ids (and stale-key refreshes).
	keyRefetchMinInterval = 5 * time.Minute
	// keyRetryNoKeysInterval limits fetch attempts while no keys could be fetched at all.
	keyRetryNoKeysInterval = 10 * time.Second
	// keyFetchTimeout bounds one metadata + JWKS fetch.
	keyFetchTimeout = 30 * time.Second
	// maxDiscoveryBody bounds the OpenID metadata and JWKS documents.
	maxDiscoveryBody = 1 << 20
	// minRSABits is the smallest RSA modulus accepted for a signing key.
	minRSABits = 2048
)

// errUnknownKey is returned when no signing key has the token's kid.
var errUnknownKey = errors.New("signing key not found")

// signingKey is one RSA key from the JWKS with the channels it is endorsed for.
type signingKey struct {
	pub          *rsa.PublicKey
	endorsements []string
	gen          uint64 // generation of the key set this key was fetched in
}

// endorses reports whether the key is endorsed for channelID.
func (k signingKey) endorses(channelID string) bool {
	return slices.ContainsFunc(k.endorsements, func(e string) bool { return strings.EqualFold(e, channelID) })
}

// keyCache fetches OpenID metadata → jwks_uri → keys and caches them.
type keyCache struct {
	metadataURL string
	client      *http.Client
	now         func() time.Time
	logger      *slog.Logger

	mu          sync.Mutex
	keys        map[string]signingKey
	fetchedAt   time.Time     // last successful fetch
	lastAttempt time.Time     // last fetch attempt, successful or not
	inflight    chan struct{} // non-nil while a fetch runs; closed when it ends
	lastErr     error         // result of the last attempt
	// gen counts successful fetches; verified tokens remember the generation of their signing key
	// and are verified again once it changes.
	gen atomic.Uint64
}

// generation returns the current key generation (0 before the first successful fetch).
func (c *keyCache) generation() uint64 { return c.gen.Load() }

// get returns the key named kid, fetching keys when none are cached, when they are older than
// keyRefreshInterval, or when kid is unknown (at most once per keyRefetchMinInterval).
func (c *keyCache) get(ctx context.Context, kid string) (signingKey, error) {
	for round := 0; ; round++ {
		c.mu.Lock()
		if c.inflight != nil {
			ch := c.inflight
			c.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return signingKey{}, fmt.Errorf("wait for signing keys: %w", ctx.Err())
			}
			continue
		}
		now := c.now()
		key, found := c.keys[kid]
		mayRefetch := now.Sub(c.lastAttempt) >= keyRefetchMinInterval || c.lastAttempt.IsZero()
		switch {
		case c.keys == nil && round == 0 && (c.lastAttempt.IsZero() || now.Sub(c.lastAttempt) >= keyRetryNoKeysInterval):
			// Nothing cached yet: fetch (once per call; failures are reported below).
		case c.keys == nil:
			err := c.lastErr
			c.mu.Unlock()
			if err == nil {
				err = errors.New("fetch failed recently")
			}
			return signingKey{}, fmt.Errorf("signing keys unavailable: %w", err)
		case found && now.Sub(c.fetchedAt) < keyRefreshInterval:
			c.mu.Unlock()
			return key, nil
		case found && (!mayRefetch || round > 0):
			// Stale but refetch not allowed yet (or just failed): keep using the cached key.
			c.mu.Unlock()
			return key, nil
		case !found && (!mayRefetch || round > 0):
			c.mu.Unlock()
			return signingKey{}, fmt.Errorf("kid %q: %w", kid, errUnknownKey)
		}
		ch := make(chan struct{})
		c.inflight = ch
		c.lastAttempt = now
		c.mu.Unlock()

		keys, err := c.fetch(ctx)

		c.mu.Lock()
		c.lastErr = err
		if err == nil {
			gen := c.gen.Load() + 1
			for kid, k := range keys {
				k.gen = gen
				keys[kid] = k
			}
			c.keys = keys
			c.gen.Store(gen)
			c.fetchedAt = c.now()
			c.logger.Info("bot framework signing keys refreshed", slog.Int("keys", len(keys)))
		} else {
			c.logger.Warn("bot framework signing keys refresh failed", slog.String("err", err.Error()))
		}
		c.inflight = nil
		close(ch)
		c.mu.Unlock()
	}
}

type openIDMetadata struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

type jwk struct {
	Kty          string   `json:"kty"`
	Kid          string   `json:"kid"`
	Use          string   `json:"use"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	X5c          []string `json:"x5c"`
	Endorsements []string `json:"endorsements"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// fetch reads the metadata and the key set. It is detached from the caller's cancellation so that one
// impatient caller does not fail the fetch for others waiting on it, but bounded by keyFetchTimeout.
func (c *keyCache) fetch(ctx context.Context) (map[string]signingKey, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keyFetchTimeout)
	defer cancel()

	var meta openIDMetadata
	if err := c.getJSON(ctx, c.metadataURL, &meta); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if meta.JWKSURI == "" {
		return nil, fmt.Errorf("openid metadata %s: jwks_uri is missing", c.metadataURL)
	}
	if err := checkMetadataURL(meta.JWKSURI); err != nil {
		return nil, fmt.Errorf("openid metadata %s: jwks_uri: %w", c.metadataURL, err)
	}
	var set jwkSet
	if err := c.getJSON(ctx, meta.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := make(map[string]signingKey, len(set.Keys))
	for _, k := range set.Keys {
		pub, err := k.rsaPublicKey()
		if err != nil {
			c.logger.Warn("skipping unusable signing key", slog.String("kid", k.Kid), slog.String("err", err.Error()))
			continue
		}
		keys[k.Kid] = signingKey{pub: pub, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks %s: no usable RSA signing keys", meta.JWKSURI)
	}
	return keys, nil
}

func (c *keyCache) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request for %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBody+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	if len(body) > maxDiscoveryBody {
		return fmt.Errorf("get %s: document larger than %d bytes", url, maxDiscoveryBody)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %d", url, resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s: %w", url, err)
	}
	return nil
}

// rsaPublicKey extracts the RSA public key from n/e, or from the first x5c certificate.
func (k jwk) rsaPublicKey() (*rsa.PublicKey, error) {
	if k.Kid == "" {
		return nil, errors.New("key has no kid")
	}
	if k.Kty != "RSA" {
		return nil, fmt.Errorf("key type %q is not RSA", k.Kty)
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("key use %q is not sig", k.Use)
	}
	var pub *rsa.PublicKey
	switch {
	case k.N != "" && k.E != "":
		n, err := decodeB64URL(k.N)
		if err != nil {
			return nil, fmt.Errorf("modulus: %w", err)
		}
		e, err := decodeB64URL(k.E)
		if err != nil {
			return nil, fmt.Errorf("exponent: %w", err)
		}
		if len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("exponent has %d bytes", len(e))
		}
		exp := new(big.Int).SetBytes(e)
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}
	case len(k.X5c) > 0:
		der, err := base64.StdEncoding.DecodeString(k.X5c[0])
		if err != nil {
			return nil, fmt.Errorf("x5c: %w", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("x5c: %w", err)
		}
		p, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("x5c certificate key is not RSA")
		}
		pub = p
	default:
		return nil, errors.New("key has neither n/e nor x5c")
	}
	if pub.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("RSA modulus has %d bits, need at least %d", pub.N.BitLen(), minRSABits)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return nil, fmt.Errorf("RSA exponent %d is invalid", pub.E)
	}
	return pub, nil
}

func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
