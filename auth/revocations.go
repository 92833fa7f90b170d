package auth

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/hearth-fhir/hearth/store"
)

// Kinds of store.AuthItem this package keeps.
const (
	itemAuthRequest  = "authreq"      // a pending authorization request, by id
	itemCode         = "code"         // an authorization code → request id
	itemLaunch       = "launch"       // an EHR launch context, by launch id
	itemAssertionJTI = "assert-jti"   // a client assertion's jti, by client id + jti
	itemRevokedToken = "revoked-jti"  // a revoked access token's jti
	itemUserRevoked  = "user-revoked" // tenant/user → time before which their tokens are void
	itemTOTPUsed     = "totp-used"    // a TOTP code already used, by user and code
)

// revocationReload is how often the revocation lists are read again from
// the store, so that revocations made by another server instance take
// effect here within that time. Revocations made by this instance apply at
// once.
const revocationReload = 15 * time.Second

// revocations remembers revoked access tokens (by jti) and users whose
// earlier tokens are void. Access tokens are self-contained JWTs, so these
// lists are what makes revocation work without a store read per request.
type revocations struct {
	users store.Users
	ttl   time.Duration // the access-token lifetime: entries are kept that long
	clock func() time.Time

	mu       sync.Mutex
	loaded   time.Time
	jtis     map[string]time.Time // jti → when it may be forgotten
	userVoid map[string]time.Time // tenant + "/" + user → revoked before
}

func newRevocations(users store.Users, ttl time.Duration, clock func() time.Time) *revocations {
	return &revocations{users: users, ttl: ttl, clock: clock, jtis: map[string]time.Time{}, userVoid: map[string]time.Time{}}
}

// revoked reports whether a verified token has been revoked: its jti is on
// the list, or it was issued (iat, whole seconds) no later than the second
// its user was signed out everywhere. Rounding that way voids a token
// issued in the same second as the revocation too, never one before it.
func (r *revocations) revoked(ctx context.Context, cl Claims) bool {
	r.reloadIfStale(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.jtis[cl.ID]; ok && cl.ID != "" {
		return true
	}
	if before, ok := r.userVoid[cl.Tenant+"/"+cl.Subject]; ok && !cl.IssuedAt.After(before) {
		return true
	}
	return false
}

// reloadIfStale reads the lists from the store when the last read is older
// than revocationReload. A store failure keeps the old lists (and is
// retried on the next call): verification must not fail closed for every
// request because of one slow query, and local revocations are in memory.
func (r *revocations) reloadIfStale(ctx context.Context) {
	now := r.clock()
	r.mu.Lock()
	fresh := now.Sub(r.loaded) < revocationReload && !r.loaded.IsZero()
	if !fresh {
		r.loaded = now // one caller reloads; the others use the current lists
	}
	r.mu.Unlock()
	if fresh {
		return
	}
	jtis, err1 := r.users.AuthItems(ctx, itemRevokedToken, now)
	users, err2 := r.users.AuthItems(ctx, itemUserRevoked, now)
	if err1 != nil || err2 != nil {
		r.mu.Lock()
		r.loaded = time.Time{}
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Merge rather than replace, so a revocation made here while the
	// store was being read is not lost; forget what has expired.
	for id, exp := range r.jtis {
		if !now.Before(exp) {
			delete(r.jtis, id)
		}
	}
	for _, it := range jtis {
		r.jtis[it.ID] = it.ExpiresAt
	}
	for key, before := range r.userVoid {
		if now.Sub(before) > r.ttl+leeway {
			delete(r.userVoid, key)
		}
	}
	for _, it := range users {
		us, err := strconv.ParseInt(string(it.Data), 10, 64)
		if err == nil {
			if t := time.UnixMicro(us).UTC(); t.After(r.userVoid[it.ID]) {
				r.userVoid[it.ID] = t
			}
		}
	}
}

// revokeToken puts an access token's jti on the list until it expires.
func (r *revocations) revokeToken(ctx context.Context, tenant, jti string, exp time.Time) error {
	r.mu.Lock()
	r.jtis[jti] = exp.Add(leeway)
	r.mu.Unlock()
	err := r.users.PutAuthItem(ctx, store.AuthItem{Tenant: tenant, Kind: itemRevokedToken, ID: jti,
		Data: []byte("1"), ExpiresAt: exp.Add(leeway)}, r.clock())
	if err != nil && !isConflict(err) {
		return err
	}
	return nil
}

// revokeUser voids, in this process, the tokens a user was issued up to
// now; storeUserRevocation has recorded it for the other processes.
func (r *revocations) revokeUser(ctx context.Context, tenant, user string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.After(r.userVoid[tenant+"/"+user]) {
		r.userVoid[tenant+"/"+user] = now
	}
	return nil
}

// storeUserRevocation records that a user's tokens issued up to now are void.
func storeUserRevocation(ctx context.Context, users store.Users, tenant, user string, now time.Time, ttl time.Duration) error {
	key := tenant + "/" + user
	it := store.AuthItem{Tenant: tenant, Kind: itemUserRevoked, ID: key,
		Data: []byte(strconv.FormatInt(now.UnixMicro(), 10)), ExpiresAt: now.Add(ttl + leeway)}
	// A newer mark replaces an older one: delete, then put.
	if err := users.DeleteAuthItem(ctx, itemUserRevoked, key); err != nil {
		return err
	}
	if err := users.PutAuthItem(ctx, it, now); err != nil && !isConflict(err) {
		return err
	}
	return nil
}
