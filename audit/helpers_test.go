package audit_test

import (
	"context"
	"sync/atomic"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/store"
)

// countingTx counts the transactions a committer runs.
type countingTx struct {
	audit.TxRunner
	n atomic.Int64
}

func (c *countingTx) Tx(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	c.n.Add(1)
	return c.TxRunner.Tx(ctx, tenant, fn)
}
