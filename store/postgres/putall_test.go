package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// bulkTx is the optional capability PutAll offers.
type bulkTx interface {
	PutAll(ctx context.Context, ws []store.Write) error
}

func TestPutAll(t *testing.T) {
	ctx := context.Background()
	db := open(t, pgtest.URL(t))
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(id string, prev int64) store.Write {
		return store.Write{
			Record:      store.Record{Type: "Patient", ID: id, Version: prev + 1, LastUpdated: at, Body: []byte(`{"id":"` + id + `"}`)},
			PrevVersion: prev,
			Tokens:      []store.Token{{Param: "identifier", System: "urn:x", Code: id}},
		}
	}
	var ws []store.Write
	for i := 0; i < 50; i++ {
		ws = append(ws, write(fmt.Sprintf("p%d", i), 0))
	}
	err := db.Tx(ctx, "t1", func(tx store.Tx) error { return tx.(bulkTx).PutAll(ctx, ws) })
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if _, err := db.Read(ctx, "t1", "Patient", w.Record.ID); err != nil {
			t.Fatalf("%s not written: %v", w.Record.ID, err)
		}
	}
	// A batch with one stale write fails whole and writes nothing.
	bad := []store.Write{write("q1", 0), write("p3", 0), write("q2", 0)}
	err = db.Tx(ctx, "t1", func(tx store.Tx) error { return tx.(bulkTx).PutAll(ctx, bad) })
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Kind != fhir.KindConflict || !strings.Contains(fe.Message, "Patient/p3") {
		t.Fatalf("stale write in a batch: %v, want a conflict naming Patient/p3", err)
	}
	// The same new resource twice in one batch fails too.
	twice := []store.Write{write("r1", 0), write("r1", 0)}
	err = db.Tx(ctx, "t1", func(tx store.Tx) error { return tx.(bulkTx).PutAll(ctx, twice) })
	if !fhir.IsKind(err, fhir.KindConflict) {
		t.Fatalf("one resource created twice in a batch: %v, want conflict", err)
	}
	for _, id := range []string{"q1", "q2"} {
		if _, err := db.Read(ctx, "t1", "Patient", id); !fhir.IsKind(err, fhir.KindNotFound) {
			t.Fatalf("%s written by a failed batch: %v", id, err)
		}
	}
	err = db.Tx(ctx, "t1", func(tx store.Tx) error {
		ids, err := tx.FindTokens(ctx, store.TokenQuery{Type: "Patient", Param: "identifier", System: "urn:x", Code: "p49"})
		if err == nil && (len(ids) != 1 || ids[0] != "p49") {
			err = fmt.Errorf("token rows of the batch: %v", ids)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
