package auth

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// RateLimit bounds requests to the login and token endpoints, per client
// IP address and per client id: a token bucket of Burst requests refilled
// at PerMinute. Defaults: 120 per minute, bursts of 60 (a clinic behind
// one NAT address shares the IP budget; the account lockout is what stops
// password guessing).
type RateLimit struct {
	PerMinute float64
	Burst     float64
	// TrustForwardedFor takes the client address from X-Forwarded-For's
	// last hop; only behind a proxy that sets it.
	TrustForwardedFor bool
}

func (r *RateLimit) setDefaults() {
	if r.PerMinute <= 0 {
		r.PerMinute = 120
	}
	if r.Burst <= 0 {
		r.Burst = 60
	}
}

// maxBuckets bounds the limiter's memory; past it, full buckets (idle
// callers) are forgotten.
const maxBuckets = 100000

// limiter is a set of token buckets by key ("ip:…", "client:…").
type limiter struct {
	cfg     RateLimit
	clock   func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(cfg RateLimit, clock func() time.Time) *limiter {
	return &limiter{cfg: cfg, clock: clock, buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket.
func (l *limiter) allow(key string) bool {
	now := l.clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.cfg.Burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.cfg.Burst, b.tokens+now.Sub(b.last).Minutes()*l.cfg.PerMinute)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Minutes()*l.cfg.PerMinute >= l.cfg.Burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

func (l *limiter) allowClient(id string) bool { return l.allow("client:" + id) }

// AllowIP takes a token for a request's client address.
func (l *limiter) allowIP(r *http.Request) bool {
	return l.allow("ip:" + clientIP(r, l.cfg.TrustForwardedFor))
}

// wrap rate-limits a handler per client IP; over the limit is 429 with
// Retry-After.
func (l *limiter) wrap(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allowIP(r) {
			w.Header().Set("Retry-After", "60")
			writeOAuthError(w, http.StatusTooManyRequests, "slow_down", "too many requests")
			return
		}
		h(w, r)
	})
}

func clientIP(r *http.Request, trustForwarded bool) string {
	if trustForwarded {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			for i := len(last) - 1; i >= 0; i-- {
				if last[i] == ',' {
					last = last[i+1:]
					break
				}
			}
			if ip := net.ParseIP(trimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func trimSpace(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	return s
}

// AllowLogin reports whether a login attempt from this request may
// proceed (per IP); web/ calls it before checking a password.
func (s *Server) AllowLogin(r *http.Request) bool { return s.limits.allowIP(r) }
