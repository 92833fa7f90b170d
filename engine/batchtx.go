package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/store"
)

// BulkTx is an optional store capability: writing many versions in one
// round trip. A transaction Bundle's writes go through it when the store
// offers it.
type BulkTx interface {
	PutAll(ctx context.Context, ws []store.Write) error
}

// batchingTx queues a Bundle's writes and sends them to the store in bulk.
// Any read flushes the queue first, so the Bundle still reads its own writes.
type batchingTx struct {
	tx      store.Tx
	pending []store.Write
}

func (b *batchingTx) flush(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	ws := b.pending
	b.pending = nil
	if bulk, ok := b.tx.(BulkTx); ok {
		return bulk.PutAll(ctx, ws)
	}
	for _, w := range ws {
		if err := b.tx.Put(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

func (b *batchingTx) Put(_ context.Context, w store.Write) error {
	b.pending = append(b.pending, w)
	return nil
}

func (b *batchingTx) Read(ctx context.Context, typ, id string) (store.Record, error) {
	if err := b.flush(ctx); err != nil {
		return store.Record{}, err
	}
	return b.tx.Read(ctx, typ, id)
}

func (b *batchingTx) ReadVersion(ctx context.Context, typ, id string, version int64) (store.Record, error) {
	if err := b.flush(ctx); err != nil {
		return store.Record{}, err
	}
	return b.tx.ReadVersion(ctx, typ, id, version)
}

func (b *batchingTx) FindTokens(ctx context.Context, q store.TokenQuery) ([]string, error) {
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	return b.tx.FindTokens(ctx, q)
}

func (b *batchingTx) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	if err := b.flush(ctx); err != nil {
		return store.SearchPage{}, err
	}
	return b.tx.Search(ctx, q)
}

var _ store.Tx = (*batchingTx)(nil)
