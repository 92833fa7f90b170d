package crypt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/hearth-fhir/hearth/crypt"
)

// memKeys is an in-memory KeyStore for the unit tests of this package; the
// SQL implementations are checked by store/storetest with the same Ring.
type memKeys struct {
	mu    sync.Mutex
	keys  map[string][]crypt.WrappedKey
	down  bool // every call fails, as a database that is unreachable
	loads int  // TenantKeys calls
	adds  int  // successful AddTenantKey calls
}

func newMemKeys() *memKeys { return &memKeys{keys: map[string][]crypt.WrappedKey{}} }

var errDown = errors.New("memKeys: down")

func (m *memKeys) TenantKeys(_ context.Context, tenant string) ([]crypt.WrappedKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	if m.down {
		return nil, errDown
	}
	out := make([]crypt.WrappedKey, len(m.keys[tenant]))
	for i, k := range m.keys[tenant] {
		k.Wrapped = bytes.Clone(k.Wrapped)
		out[i] = k
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Purpose != out[j].Purpose {
			return out[i].Purpose < out[j].Purpose
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

func (m *memKeys) AddTenantKey(_ context.Context, k crypt.WrappedKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return errDown
	}
	for _, o := range m.keys[k.Tenant] {
		if o.Purpose == k.Purpose && o.Version == k.Version {
			return fmt.Errorf("memKeys: %s key %d exists", k.Purpose, k.Version)
		}
	}
	k.Wrapped = bytes.Clone(k.Wrapped)
	m.keys[k.Tenant] = append(m.keys[k.Tenant], k)
	m.adds++
	return nil
}

func (m *memKeys) RewrapTenantKey(_ context.Context, k crypt.WrappedKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, o := range m.keys[k.Tenant] {
		if o.Purpose == k.Purpose && o.Version == k.Version {
			m.keys[k.Tenant][i].KEKID, m.keys[k.Tenant][i].Wrapped = k.KEKID, bytes.Clone(k.Wrapped)
			return nil
		}
	}
	return errors.New("memKeys: no such key")
}

func (m *memKeys) DeleteTenantKeys(_ context.Context, tenant string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, tenant)
	return nil
}

func (m *memKeys) KeyTenants(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for t := range m.keys {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, nil
}

func (m *memKeys) setDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

func (m *memKeys) counts() (loads, adds int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loads, m.adds
}
