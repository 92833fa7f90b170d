package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TokenSource gives the bearer token for the next request; "" sends none.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a token given on the command line.
type StaticToken string

// Token returns the token itself.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// ClientCredentials obtains tokens with the OAuth 2.0 client credentials
// grant (client_secret_basic), as SMART Backend Services clients of Hearth,
// HAPI, Medplum or Blaze's auth servers do, and fetches a new one shortly
// before the current one expires.
type ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scope        string // may be empty
	HTTP         *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// refreshMargin is how long before expiry a token is replaced.
const refreshMargin = 30 * time.Second

// Token returns a valid access token, asking the token endpoint when the
// cached one is missing or about to expire.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Until(c.expires) > refreshMargin {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if c.Scope != "" {
		form.Set("scope", c.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.AccessToken == "" {
		// The body is an OAuth error object; it carries no secret.
		return "", fmt.Errorf("token endpoint answered %d: %.300s", resp.StatusCode, body)
	}
	if out.ExpiresIn <= 0 {
		out.ExpiresIn = 300
	}
	c.token, c.expires = out.AccessToken, time.Now().Add(time.Duration(out.ExpiresIn)*time.Second)
	return c.token, nil
}
