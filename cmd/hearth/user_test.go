package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// hearth user create / passwd / signout against a data directory.
func TestUserCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var out bytes.Buffer
	err := user(ctx, []string{"create", "--data-dir", dir, "--username", "nurse.joy", "--fhir-user", "Practitioner/n1",
		"--roles", "clinician,admin", "--password-stdin"}, strings.NewReader("a long enough secret\n"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"username":"nurse.joy"`) || !strings.Contains(out.String(), `"roles":["clinician","admin"]`) {
		t.Errorf("create printed %s", out.String())
	}
	if err := user(ctx, []string{"create", "--data-dir", dir, "--username", "nurse.joy"}, strings.NewReader(""), &out); err == nil {
		t.Error("duplicate username accepted")
	}
	if err := user(ctx, []string{"create", "--data-dir", dir, "--username", "x", "--password-stdin"}, strings.NewReader("short\n"), &out); err == nil {
		t.Error("short password accepted")
	}
	login := func(pw string) error {
		db, err := sqlite.Open(ctx, dir+"/hearth.db")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		srv, err := auth.NewServer(ctx, auth.Config{Issuer: "http://127.0.0.1:1"}, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		_, err = srv.Login(ctx, "default", "nurse.joy", pw)
		return err
	}
	if err := login("a long enough secret"); err != nil {
		t.Fatalf("login with the created password: %v", err)
	}
	if err := user(ctx, []string{"passwd", "--data-dir", dir, "--username", "nurse.joy"}, strings.NewReader("another long secret\n"), &out); err != nil {
		t.Fatal(err)
	}
	if login("a long enough secret") == nil || login("another long secret") != nil {
		t.Error("passwd did not replace the password")
	}
	if err := user(ctx, []string{"signout", "--data-dir", dir, "--username", "nurse.joy"}, nil, &out); err != nil {
		t.Fatal(err)
	}
}
