package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/hearth-fhir/hearth/crypt"
)

const keysUsage = `usage: hearth keys <command> [flags]

  status   the key versions of each tenant and how many stored elements use each
  rotate   make a new key version for new writes, then re-encrypt stored rows to it
           (the server keeps running; this may run beside it)
  rewrap   re-seal the tenant key files with --master-key-file after a master key change;
           needs the old key as --previous-master-key-file; touches no data
  shred    destroy a tenant's keys: all of its data, backups included, becomes unreadable
           (hearth tenant delete also deletes its rows)

Every command first moves keys that the master key wraps in the database (as before
--tenant-key-dir existed) under their tenants' keys.`

// keys handles "hearth keys …".
func keys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(keysUsage)
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	var ef encryptionFlags
	ef.register(fs)
	tenant := fs.String("tenant", "", "one tenant (default: every tenant that has keys; shred needs it)")
	confirm := fs.String("confirm", "", "shred: the tenant id again, to confirm")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ef.enabled = true
	st, kr, err := openEncrypted(ctx, sf, ef)
	if err != nil {
		return err
	}
	defer st.Close()
	ks := st.(crypt.KeyStore)
	bs, ok := st.(crypt.BodyStore)
	if !ok {
		return errors.New("this store cannot re-encrypt")
	}
	if args[0] == "rewrap" {
		// The files first: moving keys needs the tenant keys readable.
		if kr.previous == nil {
			return errors.New("rewrap needs --previous-master-key-file (the old key) and the new key as --master-key-file or HEARTH_MASTER_KEY")
		}
		n, err := kr.tenants.Reseal(ctx)
		fmt.Fprintf(stdout, "%d tenant key files in %s re-sealed with %s\n", n, kr.tenants.Dir(), kr.wrapper.ID())
		if err != nil {
			return err
		}
	}
	rep, err := kr.migrate(ctx)
	if rep.Rewrapped > 0 || args[0] == "rewrap" {
		fmt.Fprintf(stdout, "%d tenants: %d keys re-wrapped under their tenant keys, %d already were\n", rep.Tenants, rep.Rewrapped, rep.Current)
	}
	if err != nil {
		return err
	}
	tenants := []string{*tenant}
	if *tenant == "" {
		if tenants, err = ks.KeyTenants(ctx); err != nil {
			return err
		}
	}
	switch args[0] {
	case "status":
		return keysStatus(ctx, kr, bs, tenants, stdout)
	case "rotate":
		for _, t := range tenants {
			if err := keysRotate(ctx, kr, bs, t, stdout, stderr); err != nil {
				return err
			}
		}
		return nil
	case "rewrap":
		return nil
	case "shred":
		if *tenant == "" || *confirm != *tenant {
			return errors.New("shred needs --tenant T --confirm T")
		}
		if err := kr.ring.Shred(ctx, *tenant); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s: keys destroyed; its encrypted data can no longer be read. "+
			"Remove %s from every backup of the tenant key directory too.\n", *tenant, kr.tenants.Path(*tenant))
		return nil
	}
	return errors.New(keysUsage)
}

// keysStatus prints each tenant's keys and the stored elements per version.
func keysStatus(ctx context.Context, kr *keyring, bs crypt.BodyStore, tenants []string, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tKEY\tVERSION\tCREATED\tKEK\tELEMENTS\tBODIES")
	for _, t := range tenants {
		infos, err := kr.ring.Keys(ctx, t)
		if err != nil {
			return err
		}
		if info, err := kr.tenants.Info(t); err == nil {
			fmt.Fprintf(tw, "%s\ttenant (file)\t%d\t%s\t%s\t\t\n", t, info.Version, info.CreatedAt.Format(time.DateTime), info.KEKID)
		} else {
			fmt.Fprintf(tw, "%s\ttenant (NO FILE)\t\t\t\t\t\n", t)
		}
		elements, bodies, err := crypt.Census(ctx, bs, t)
		if err != nil {
			return err
		}
		seen := map[int]bool{}
		for _, k := range infos {
			key, counts := string(k.Purpose), "\t"
			if k.Purpose == crypt.PurposeData {
				key = "data"
				if k.Current {
					key = "data (current)"
				}
				counts = fmt.Sprintf("%d\t%d", elements[k.Version], bodies[k.Version])
				seen[k.Version] = true
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", t, key, k.Version, k.CreatedAt.Format(time.DateTime), k.KEKID, counts)
		}
		// Elements under a version whose key is gone (shredded) show too.
		var lost []int
		for v := range elements {
			if !seen[v] {
				lost = append(lost, v)
			}
		}
		sort.Ints(lost)
		for _, v := range lost {
			fmt.Fprintf(tw, "%s\tdata (NO KEY)\t%d\t\t\t%d\t%d\n", t, v, elements[v], bodies[v])
		}
		if bodies[0] > 0 {
			fmt.Fprintf(tw, "%s\tDAMAGED\t\t\t\t\t%d\n", t, bodies[0])
		}
	}
	return tw.Flush()
}

// keysRotate makes a new DEK version and re-encrypts the tenant's rows with
// a progress bar.
func keysRotate(ctx context.Context, kr *keyring, bs crypt.BodyStore, tenant string, stdout, stderr io.Writer) error {
	v, err := kr.ring.Rotate(ctx, tenant)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tenant %s: key version %d is current; new writes use it within %s\n", tenant, v, crypt.DefaultRefresh)
	var bar *progress
	pass := 0
	prog, err := kr.ring.Reencrypt(ctx, bs, tenant, func(p crypt.ReencryptProgress) {
		if p.Pass != pass {
			if bar != nil {
				bar.done()
			}
			pass = p.Pass
			bar = newProgress(stderr, p.Total)
			bar.unit, bar.rate = fmt.Sprintf("rows (pass %d)", p.Pass), "rows"
		}
		bar.add(p.Scanned - bar.count)
	})
	if bar != nil {
		bar.done()
	}
	fmt.Fprintf(stdout, "tenant %s: %d rows re-encrypted to version %d in %d passes", tenant, prog.Rewritten, v, prog.Pass)
	if prog.Failed > 0 {
		fmt.Fprintf(stdout, "; %d rows did not decrypt and stay on their old version", prog.Failed)
	}
	fmt.Fprintln(stdout)
	return err
}
